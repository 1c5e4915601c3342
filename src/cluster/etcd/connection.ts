/**
 * @module cluster/etcd/connection
 * How to reach etcd: endpoints, user/password, TLS material, and turning
 * that into an `etcd3` client. The etcd3 package (gRPC and all) is loaded
 * here on first use only, so a Corefile without etcd never pays for it.
 */
import type { Etcd3, IOptions } from 'etcd3';

/** TLS as CoreDNS's `tls [CERT KEY CACERT]`: every part optional (system CAs, no client certificate). */
export interface EtcdTls {
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

export interface EtcdConnection {
  /** Client URLs ("http://127.0.0.1:2379", "https://..."); the client fails over between them. */
  readonly endpoints: readonly string[];
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** null: plain gRPC (unless an endpoint is https, then TLS with system CAs). */
  readonly tls?: EtcdTls | null | undefined;
  /** How long one connection attempt may take (default 3000 ms). */
  readonly dialTimeoutMs?: number | undefined;
}

/** The etcd3 options for a connection. */
export function etcdClientOptions(c: EtcdConnection): IOptions {
  const opts: IOptions = { hosts: [...c.endpoints], dialTimeout: c.dialTimeoutMs ?? 3000 };
  if (c.username !== undefined && c.password !== undefined) opts.auth = { username: c.username, password: c.password };
  if (c.tls) {
    // etcd3 types rootCertificate as required; gRPC takes null for "system CAs".
    const creds: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer } = { rootCertificate: c.tls.ca ?? (null as unknown as Buffer) };
    if (c.tls.key) creds.privateKey = c.tls.key;
    if (c.tls.cert) creds.certChain = c.tls.cert;
    opts.credentials = creds;
  }
  return opts;
}

let etcd3Module: Promise<typeof import('etcd3')> | null = null;

/** A new etcd3 client; the package is imported on the first call. */
export async function connectEtcd(c: EtcdConnection): Promise<Etcd3> {
  etcd3Module ??= import('etcd3');
  const { Etcd3: Client } = await etcd3Module;
  return new Client(etcdClientOptions(c));
}

/** Whether an error from etcd3 is an authentication failure (wrong user or password, auth not enabled for the user). */
export function isAuthError(e: unknown): boolean {
  const name = (e as Error | null)?.constructor?.name ?? '';
  const msg = (e as Error | null)?.message ?? '';
  return name === 'EtcdAuthenticationFailedError' || name === 'EtcdPermissionDeniedError' || /authentication failed|permission denied|invalid auth token/i.test(msg);
}

/**
 * @module test/support/kubeconfig
 * Writes kubeconfig files (and temp directories) for tests that point the
 * real @kubernetes/client-node configuration at a FakeApiServer.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface KubeconfigSpec {
  readonly server: string;
  readonly token?: string;
  /** Paths (absolute or relative to the kubeconfig's directory). */
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Defaults to true for http:// servers (the library refuses plain HTTP otherwise). */
  readonly insecureSkipTLSVerify?: boolean;
  /** Extra context named "other" pointing at this server URL. */
  readonly otherServer?: string;
  /** An exec credential plugin: the user's token comes from running this command. */
  readonly execCommand?: string;
  /** The clusters' proxy-url. */
  readonly proxyUrl?: string;
}

export async function makeTempDir(prefix = 'clusterdns-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Writes `<dir>/kubeconfig` with context "fake" (current) and optionally "other"; returns its path. */
export async function writeKubeconfig(dir: string, spec: KubeconfigSpec): Promise<string> {
  const skip = spec.insecureSkipTLSVerify ?? spec.server.startsWith('http:');
  const cluster = (server: string): string[] => [
    `    server: ${server}`,
    ...(skip ? ['    insecure-skip-tls-verify: true'] : []),
    ...(spec.caFile ? [`    certificate-authority: ${spec.caFile}`] : []),
    ...(spec.proxyUrl ? [`    proxy-url: ${spec.proxyUrl}`] : []),
  ];
  const user = [
    ...(spec.token ? [`    token: ${spec.token}`] : []),
    ...(spec.certFile ? [`    client-certificate: ${spec.certFile}`] : []),
    ...(spec.keyFile ? [`    client-key: ${spec.keyFile}`] : []),
    ...(spec.execCommand ? ['    exec:', '      apiVersion: client.authentication.k8s.io/v1', `      command: ${spec.execCommand}`, '      interactiveMode: Never'] : []),
  ];
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    ...cluster(spec.server),
    ...(spec.otherServer ? ['- name: other', '  cluster:', ...cluster(spec.otherServer)] : []),
    'users:',
    '- name: tester',
    ...(user.length > 0 ? ['  user:', ...user] : ['  user: {}']),
    'contexts:',
    '- name: fake',
    '  context: {cluster: fake, user: tester}',
    ...(spec.otherServer ? ['- name: other', '  context: {cluster: other, user: tester}'] : []),
    'current-context: fake',
    '',
  ];
  const file = path.join(dir, 'kubeconfig');
  await writeFile(file, lines.join('\n'));
  return file;
}

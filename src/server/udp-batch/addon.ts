/**
 * @module server/udp-batch/addon
 * Finding and loading the optional native UDP addon (udp-batch.c, built by
 * `npm ci` through the package's install script, or `npm run build:native`,
 * into build/udp-batch.node), and choosing the UDP path at start: the addon
 * on Linux whenever it loads, node:dgram otherwise. CLUSTERDNS_UDP_BATCH=1
 * insists on the addon (the start fails without it), =0 keeps node:dgram.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../errors/to-error.ts';

/** The addon's functions (see udp-batch.c). */
export interface UdpBatchAddon {
  readonly BATCH: number;
  open(family: 4 | 6, address: string, port: number, reusePort: boolean, inSlab: Uint8Array, slot: number,
    inMeta: Int32Array, outSlab: Uint8Array, outMeta: Int32Array, onBatch: (n: number) => number, recvBufferBytes?: number): [UdpBatchHandle, number] | number;
  setInput(handle: UdpBatchHandle, inSlab: Uint8Array): number;
  sendIndexed(handle: UdpBatchHandle, buf: Uint8Array, index: number): number;
  sendTo(handle: UdpBatchHandle, buf: Uint8Array, port: number, address: string): number;
  pause(handle: UdpBatchHandle): number;
  close(handle: UdpBatchHandle): number;
  /** SO_RCVBUF as the kernel reports it, or -errno; absent in an addon built before it was added. */
  recvBufferSize?(handle: UdpBatchHandle): number;
}

/** An open socket of the addon (opaque). */
export type UdpBatchHandle = { readonly __udpBatch: unique symbol };

/** Where the build puts the addon. */
export const ADDON_PATH = fileURLToPath(new URL('../../../build/udp-batch.node', import.meta.url));

export const BATCH_ENV = 'CLUSTERDNS_UDP_BATCH';

let loaded: UdpBatchAddon | null | undefined;
let failure = '';

/** The addon, or null when it is not built or cannot be loaded (`udpBatchFailure()` says why). */
export function loadUdpBatch(): UdpBatchAddon | null {
  if (loaded !== undefined) return loaded;
  if (!existsSync(ADDON_PATH)) {
    failure = `${ADDON_PATH} not built (npm run build:native)`;
    loaded = null;
    return null;
  }
  try {
    loaded = createRequire(import.meta.url)(ADDON_PATH) as UdpBatchAddon;
  } catch (e) {
    failure = `${ADDON_PATH}: ${errorMessage(e)}`;
    loaded = null;
  }
  return loaded;
}

export function udpBatchFailure(): string {
  return failure;
}

/**
 * Whether the addon is required: CLUSTERDNS_UDP_BATCH=1 (the start fails
 * when it cannot be loaded). Without it the server still uses the addon when
 * it loads (udpPathChoice).
 */
export function udpBatchWanted(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env[BATCH_ENV] === '1';
}

/** The UDP path the server uses, and the start-up line that says so. */
export interface UdpPathChoice {
  readonly addon: UdpBatchAddon | null;
  readonly message: string;
}

/**
 * The default choice: batches (recvmmsg/sendmmsg) on Linux when the addon
 * loads, node:dgram otherwise; CLUSTERDNS_UDP_BATCH=0 keeps node:dgram. A
 * missing or broken addon never stops a start: it is said in the log.
 */
export function udpPathChoice(
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: NodeJS.Platform = process.platform,
  load: () => UdpBatchAddon | null = loadUdpBatch,
): UdpPathChoice {
  if (env[BATCH_ENV] === '0') return { addon: null, message: `UDP on node:dgram (${BATCH_ENV}=0)` };
  if (platform !== 'linux') return { addon: null, message: `UDP on node:dgram (batched I/O needs Linux, this is ${platform})` };
  const addon = load();
  if (addon === null) return { addon: null, message: `UDP on node:dgram (batched I/O unavailable: ${udpBatchFailure()})` };
  return { addon, message: `UDP on batched I/O (recvmmsg/sendmmsg, up to ${addon.BATCH} datagrams a call)` };
}

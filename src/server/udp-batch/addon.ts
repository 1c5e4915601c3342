/**
 * @module server/udp-batch/addon
 * Finding and loading the optional native UDP addon (udp-batch.c, built by
 * `npm run build:native` into build/udp-batch.node). It is used only when
 * CLUSTERDNS_UDP_BATCH=1 asks for it; otherwise, or when it is absent, the
 * server uses node:dgram (the default path).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's functions (see udp-batch.c). */
export interface UdpBatchAddon {
  readonly BATCH: number;
  open(family: 4 | 6, address: string, port: number, reusePort: boolean, inSlab: Uint8Array, slot: number,
    inMeta: Int32Array, outSlab: Uint8Array, outMeta: Int32Array, onBatch: (n: number) => number): [UdpBatchHandle, number] | number;
  setInput(handle: UdpBatchHandle, inSlab: Uint8Array): number;
  sendIndexed(handle: UdpBatchHandle, buf: Uint8Array, index: number): number;
  sendTo(handle: UdpBatchHandle, buf: Uint8Array, port: number, address: string): number;
  pause(handle: UdpBatchHandle): number;
  close(handle: UdpBatchHandle): number;
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
    failure = `${ADDON_PATH}: ${(e as Error).message}`;
    loaded = null;
  }
  return loaded;
}

export function udpBatchFailure(): string {
  return failure;
}

/**
 * Whether the server should use the addon: CLUSTERDNS_UDP_BATCH=1 asks for it
 * (and fails the start when it cannot be loaded); anything else, or nothing,
 * keeps node:dgram.
 */
export function udpBatchWanted(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env[BATCH_ENV] === '1';
}

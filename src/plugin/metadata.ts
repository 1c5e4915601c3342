/**
 * @module plugin/metadata
 * Per-request metadata, CoreDNS's metadata package: plugins that know
 * something about a query (the kubernetes plugin: the client's namespace)
 * offer it under "plugin/label", and `log` placeholders `{/plugin/label}`
 * and template's `.Meta` read it. The `metadata` plugin switches it on for
 * its server block by giving each request a map; without it every call here
 * is one null check, so blocks without `metadata` pay nothing.
 */
import type { DnsRequest } from '../dns/request.ts';

/** Offer a value (computed only when read). A no-op when the block has no `metadata`. */
export function setMetadata(req: DnsRequest, label: string, value: () => string): void {
  const m = req.metadata;
  if (m !== null) m.set(label, value);
}

/** Whether anyone will read metadata for this request (skip building values otherwise). */
export function wantsMetadata(req: DnsRequest): boolean {
  return req.metadata !== null;
}

/** The value under `label`, or '' when none was offered (CoreDNS's template .Meta). */
export function metadataValue(req: DnsRequest, label: string): string {
  const f = req.metadata?.get(label);
  return f === undefined ? '' : f();
}

/** The value under `label`, or null when none was offered (log prints '-'). */
export function metadataOrNull(req: DnsRequest, label: string): string | null {
  const f = req.metadata?.get(label);
  return f === undefined ? null : f();
}

/** A handler that can describe a request (CoreDNS's metadata.Provider): called by `metadata` before the chain runs. */
export interface MetadataProvider {
  offerMetadata(req: DnsRequest): void;
}

export function isMetadataProvider(h: object): h is MetadataProvider {
  return typeof (h as Partial<MetadataProvider>).offerMetadata === 'function';
}

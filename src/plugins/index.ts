/**
 * @module plugins
 * Every built-in plugin. Adding a plugin: a folder here with its setup,
 * handler, README and tests, a place in plugin/order.ts, and a line below.
 */
import type { PluginDefinition } from '../plugin/plugin.ts';
import { PluginRegistry } from '../plugin/registry.ts';
import { bind } from './bind/bind.ts';
import { bufsize } from './bufsize/bufsize.ts';
import { chaos } from './chaos/chaos.ts';
import { errors } from './errors/errors.ts';
import { log } from './log/log.ts';
import { whoami } from './whoami/whoami.ts';
import { forward } from './forward/setup.ts';
import { cache } from './cache/setup.ts';
import { hosts } from './hosts/setup.ts';
import { loop } from './loop/loop.ts';
import { loadbalance } from './loadbalance/loadbalance.ts';
import { prometheus } from './prometheus/prometheus.ts';
import { reload } from './reload/reload.ts';
import { health } from './health/health.ts';
import { ready } from './ready/ready.ts';
import { kubernetes } from './kubernetes/setup.ts';
import { template } from './template/setup.ts';
import { rewrite } from './rewrite/setup.ts';
import { file } from './file/setup.ts';
import { acl } from './acl/acl.ts';
import { any } from './any/any.ts';
import { minimal } from './minimal/minimal.ts';
import { local } from './local/local.ts';
import { metadata } from './metadata/metadata.ts';
import { k8sExternal } from './k8s_external/k8s_external.ts';
import { transfer } from './transfer/setup.ts';
import { dnsrecord } from './dnsrecord/setup.ts';
import { etcd } from './etcd/setup.ts';
import { autopath } from './autopath/autopath.ts';
import { explain } from './explain/explain.ts';

export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [
  bind, bufsize, chaos, errors, log, whoami,
  forward, cache, hosts, loop, loadbalance,
  prometheus, reload, health, ready,
  kubernetes, dnsrecord, etcd, template, rewrite, file,
  acl, any, minimal, local, metadata, k8sExternal, transfer, autopath, explain,
];

export function builtinRegistry(): PluginRegistry {
  return new PluginRegistry(BUILTIN_PLUGINS);
}

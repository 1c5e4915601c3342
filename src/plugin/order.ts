/**
 * @module plugin/order
 * The one fixed plugin order, CoreDNS's compiled order (plugin.cfg): a query
 * meets the plugins of its server block in this order whatever order the
 * Corefile lists them in. Several instances of one plugin in a block (e.g.
 * two `forward` lines) keep their Corefile order within their slot.
 */
export const PLUGIN_ORDER: readonly string[] = [
  'reload',
  'bufsize',
  'bind',
  'debug',
  'ready',
  'health',
  'prometheus',
  'errors',
  'log',
  'any',
  'chaos',
  'loadbalance',
  'rewrite',
  'autopath',
  'acl',
  'cache',
  'header',
  'minimal',
  'template',
  'transfer',
  'hosts',
  'dnsrecord',
  'k8s_external',
  'kubernetes',
  'etcd',
  'loop',
  'forward',
  'whoami',
];

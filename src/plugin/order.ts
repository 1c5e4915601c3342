/**
 * @module plugin/order
 * The one fixed plugin order, CoreDNS's compiled order (plugin.cfg): a query
 * meets the plugins of its server block in this order whatever order the
 * Corefile lists them in. The list is CoreDNS's (v1.14) plugin.cfg in full,
 * as ../shared/reference/coredns-compat.md records it (also plugins not
 * built here), so one added later lands in its CoreDNS slot; `dnsrecord` and `explain` are
 * ours. Several instances of one plugin in a block (e.g. two `forward`
 * lines) keep their Corefile order within their slot.
 */
export const PLUGIN_ORDER: readonly string[] = [
  'root', 'metadata', 'geoip', 'cancel', 'tls', 'timeouts', 'multisocket', 'reload', 'nsid', 'bufsize',
  'bind', 'debug', 'trace', 'ready', 'health', 'pprof', 'prometheus', 'errors', 'log',
  // Ours, not CoreDNS's: before everything that answers, so it sees who did (cache included).
  'explain',
  'dnstap', 'local',
  'dns64', 'any', 'chaos', 'loadbalance', 'tsig', 'rewrite', 'autopath', 'acl', 'cache', 'header', 'dnssec',
  'minimal', 'template', 'transfer', 'hosts', 'route53', 'azure', 'clouddns', 'dnsrecord', 'k8s_external',
  'kubernetes', 'file', 'auto', 'secondary', 'etcd', 'loop', 'forward', 'grpc', 'erratic', 'whoami', 'on',
  'sign', 'view', 'nomad',
];

/**
 * @module deploy/dnsrecord
 * The DNSRecord manifests (docs/dnsrecord.md), as code so they are rendered
 * and committed the same way as the cluster DNS (deploy/committed.ts): the
 * CRD, whose validation patterns are the ones src/dnsrecord/record.ts checks
 * (one definition, not a copy to keep in step), the RBAC of the gateway and
 * of the DNS server's dnsrecord plugin, and the gateway Deployment running
 * `clusterdns gateway --run-nginx` with its Service.
 */
import {
  DNSRECORD_GROUP, DNSRECORD_KIND, DNSRECORD_VERSION, HOST_MAX_LENGTH, HOST_PATTERN, PATH_PATTERN, SERVICE_PATTERN,
} from '../dnsrecord/record.ts';
import { VERSION } from '../version.ts';
import type { RenderOptions } from './render.ts';

export interface DnsRecordDeployOptions {
  readonly namespace: string;
  /** The gateway image (deploy/dnsrecord/Dockerfile: the clusterdns image plus nginx-light). */
  readonly image: string;
  readonly replicas: number;
}

export const DEFAULT_GATEWAY_IMAGE = `clusterdns-gateway:${VERSION}`;

/** From `deploy render`'s options: its namespace and replicas; `image` is the gateway's (null: the default), not the DNS image. */
export function dnsRecordOptions(o: RenderOptions, image: string | null): DnsRecordDeployOptions {
  return { namespace: o.namespace, image: image ?? DEFAULT_GATEWAY_IMAGE, replicas: o.replicas };
}
/** The ServiceAccount of the cluster DNS (deploy/render.ts names it so): bound to the reader role too. */
const DNS_SERVICE_ACCOUNT = 'clusterdns';
const GATEWAY = 'clusterdns-gateway';
const READER = 'clusterdns:dnsrecord-reader';
const STATUS = 'clusterdns:dnsrecord-status';
const PREFIX_DIR = '/var/run/gateway';
const HTTP_PORT = 8080;

/** A code pattern as schema text: JS writes `/` as `\/` in `source`; the API server's RE2 needs no escape. */
function schemaPattern(re: RegExp): string {
  return re.source.replace(/\\\//g, '/');
}

/** `NAME` or `NAME.NAMESPACE`, each part a Service name: how record.ts reads a path's `service`. */
function serviceRefPattern(): string {
  const label = schemaPattern(SERVICE_PATTERN).replace(/^\^/, '').replace(/\$$/, '');
  return `^${label}(\\.${label})?$`;
}

export function dnsRecordCrd(): Record<string, unknown> {
  const str = (description: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ description, type: 'string', ...extra });
  const condition = {
    type: 'object',
    required: ['type', 'status'],
    properties: {
      type: { type: 'string' },
      status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
      reason: { type: 'string' },
      message: { type: 'string' },
      lastTransitionTime: { type: 'string', format: 'date-time' },
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `dnsrecords.${DNSRECORD_GROUP}` },
    spec: {
      group: DNSRECORD_GROUP,
      scope: 'Namespaced',
      names: { kind: DNSRECORD_KIND, listKind: `${DNSRECORD_KIND}List`, plural: 'dnsrecords', singular: 'dnsrecord', shortNames: ['dnsr'] },
      versions: [{
        name: DNSRECORD_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Host', type: 'string', jsonPath: '.spec.host' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                required: ['host', 'paths'],
                properties: {
                  host: str('The host name DNS answers with the gateway address, and nginx routes by (server_name).', { maxLength: HOST_MAX_LENGTH, pattern: schemaPattern(HOST_PATTERN) }),
                  gateway: {
                    description: "Where the host resolves to; default the dnsrecord plugin's `gateway` addresses.",
                    type: 'object',
                    properties: {
                      address: str('A fixed IPv4 or IPv6 address.', { maxLength: 45 }),
                      service: str('A Service whose ClusterIP is used.', { pattern: schemaPattern(SERVICE_PATTERN) }),
                      namespace: str("The Service's namespace (default the record's).", { maxLength: 63 }),
                    },
                    'x-kubernetes-validations': [{ rule: 'has(self.address) != has(self.service)', message: 'set exactly one of address or service' }],
                  },
                  paths: {
                    type: 'array',
                    minItems: 1,
                    maxItems: 256,
                    items: {
                      type: 'object',
                      required: ['service', 'port'],
                      properties: {
                        path: str('URL prefix routed to the backend (default /SERVICE/).', { maxLength: 1024, pattern: schemaPattern(PATH_PATTERN) }),
                        service: str("A Service in the record's namespace, or NAME.NAMESPACE.", { pattern: serviceRefPattern() }),
                        port: { description: "The Service port (or the fixed address's port).", type: 'integer', minimum: 1, maximum: 65535 },
                        address: str("A fixed backend address instead of the Service's.", { maxLength: 45 }),
                        rewrite: { description: 'Strip the path prefix before proxying (default true).', type: 'boolean', default: true },
                      },
                    },
                  },
                },
              },
              status: { type: 'object', properties: { conditions: { type: 'array', items: condition } } },
            },
          },
        },
      }],
    },
  };
}

/**
 * Read access to DNSRecords and the Services and EndpointSlices they name,
 * for the gateway and for the DNS server's ServiceAccount; status patches
 * (the Accepted condition) for the gateway alone.
 */
export function dnsRecordRbac(o: DnsRecordDeployOptions): Record<string, unknown>[] {
  const read = ['get', 'list', 'watch'];
  const binding = (name: string, role: string, account: string): Record<string, unknown> => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'ServiceAccount', name: account, namespace: o.namespace }],
  });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: GATEWAY, namespace: o.namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: READER },
      rules: [
        { apiGroups: [DNSRECORD_GROUP], resources: ['dnsrecords'], verbs: read },
        { apiGroups: [''], resources: ['services'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      ],
    },
    binding(`${READER}:gateway`, READER, GATEWAY),
    binding(`${READER}:dns`, READER, DNS_SERVICE_ACCOUNT),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: STATUS },
      rules: [{ apiGroups: [DNSRECORD_GROUP], resources: ['dnsrecords/status'], verbs: ['patch'] }],
    },
    binding(`${STATUS}:gateway`, STATUS, GATEWAY),
  ];
}

/** The gateway: controller and nginx in one container (`--run-nginx`), and the Service records resolve to. */
export function gatewayObjects(o: DnsRecordDeployOptions): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': GATEWAY };
  return [
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: GATEWAY, namespace: o.namespace, labels },
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: GATEWAY,
            containers: [{
              name: 'gateway',
              image: o.image,
              args: ['gateway', '--run-nginx', '--prefix', PREFIX_DIR, '--listen', `0.0.0.0:${HTTP_PORT}`, '--endpoints'],
              ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
              resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
              securityContext: {
                runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'prefix', mountPath: PREFIX_DIR }, { name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'prefix', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: GATEWAY, namespace: o.namespace },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    },
  ];
}

/** Everything `deploy render --dnsrecord` prints: CRD, RBAC, gateway. */
export function dnsRecordObjects(o: DnsRecordDeployOptions): Record<string, unknown>[] {
  return [dnsRecordCrd(), ...dnsRecordRbac(o), ...gatewayObjects(o)];
}

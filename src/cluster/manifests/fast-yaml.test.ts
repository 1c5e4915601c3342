/**
 * @module cluster/manifests/fast-yaml.test
 * The fast manifest reader gives exactly what the `yaml` package gives for
 * every document it accepts, and hands back (NOT_HANDLED) every document
 * outside its subset, so the full parser decides those.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { fastDocument, NOT_HANDLED, splitDocuments } from './fast-yaml.ts';

const ACCEPTED = [
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    app: web\n    "quoted key": x\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n  - {name: dns, port: 53}\n  selector: {app: web}\n',
  'kind: EndpointSlice\nendpoints:\n  - addresses: ["10.0.0.1", \'10.0.0.2\']\n    conditions: {ready: true, serving: false}\n    hostname: web-0 # the pod\n  - addresses:\n      - fd00::1\nports: []\nlabels: {}\n',
  '# a comment\nkind: Namespace   # trailing\nmetadata: {name: "a#b", labels: {x: "y: z"}}\nempty:\nnull1: ~\nnull2: null\nbools: [true, False, TRUE]\nnums: [1, -2, 0x1f, 0o17, 1.5, 1e3, .inf, -.Inf]\nstrs: [yes, no, on, "1", \'it\'\'s\', "tab\\tnew\\nline\\u00e9", 10.96.0.1, http://x:80/y]\n',
  'list:\n- a\n- b\n-\n  c: d\n- - nested\n',
  'a: 1\n',
  'just a scalar\n',
];

const REFUSED = [
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  'a: |\n  line one\n  line two\n',
  'a: >\n  folded\n',
  'a: plain\n  continued\n',
  'a: 1\na: 2\n',
  'a:\n\tb: 1\n',
  '? complex\n: key\n',
  'a: [unclosed\n',
  'a: "unterminated\n  still\n"\n',
  '- a\nb: 1\n',
];

describe('fast manifest reader', () => {
  it('accepts the common subset and agrees with the yaml package on every value', () => {
    for (const doc of ACCEPTED) {
      const fast = fastDocument(doc);
      if (doc.includes('- - nested')) { assert.equal(fast, NOT_HANDLED, 'nested "- -" is left to the full parser'); continue; }
      assert.notEqual(fast, NOT_HANDLED, doc);
      assert.deepEqual(fast, parse(doc), doc);
    }
  });

  it('agrees on what yaml.stringify writes for Kubernetes objects (what the bench generates)', () => {
    for (let i = 0; i < 200; i++) {
      const obj = {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: `s-${i}`, namespace: `ns-${i % 7}`, labels: { 'kubernetes.io/service-name': `svc-${i}`, n: String(i), empty: '' } },
        addressType: i % 2 ? 'IPv4' : 'IPv6',
        endpoints: Array.from({ length: i % 4 }, (_, e) => ({
          addresses: [i % 2 ? `10.0.${i}.${e}` : `fd00::${e}`], conditions: { ready: e !== 1, serving: true, terminating: false },
          ...(e % 2 ? { hostname: `h-${e}` } : {}), nodeName: `node-${e}`, targetRef: { kind: 'Pod', name: `p-${i}-${e}`, namespace: 'x' },
        })),
        ports: [{ name: 'http', port: 8080 + i, protocol: 'TCP' }, { name: "a'b\"c", port: null }],
        weird: ['true', '0x10', '1e5', 'null', '~', ' lead', 'trail ', 'a: b', '#x', '- y', '10.0.0.1', 3.25, -1, true],
      };
      const text = stringify(obj);
      const fast = fastDocument(text);
      assert.notEqual(fast, NOT_HANDLED, text);
      assert.deepEqual(fast, parse(text), text);
    }
  });

  it('refuses everything outside the subset, so the full parser decides', () => {
    for (const doc of REFUSED) assert.equal(fastDocument(doc), NOT_HANDLED, doc);
  });

  it('splits a stream at --- and ... lines as the yaml package does', () => {
    const text = '---\na: 1\n---\n# only a comment\n---\n\nb: 2\n...\n---\nc: 3\n';
    const docs = splitDocuments(text)!;
    const fast = docs.map((d) => fastDocument(d.text)).filter((v) => v !== undefined);
    const full = parseAllDocuments(text).map((d) => d.toJS() as unknown).filter((v) => v !== null);
    assert.deepEqual(fast, full);
    assert.deepEqual(docs.filter((d) => fastDocument(d.text) !== undefined).map((d) => d.line), [2, 7, 10]);
    assert.equal(splitDocuments('--- !tag\na: 1\n'), null, 'content on a marker line: whole file to the full parser');
  });
});

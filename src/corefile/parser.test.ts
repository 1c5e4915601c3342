/**
 * @module corefile/parser.test
 * Corefile parsing: real-world Corefiles, a table of valid snippets (compared
 * in a compact shape) and of invalid ones (exact `file:line: what` messages),
 * environment substitution, snippets, and file imports from a temp directory.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorefile } from './parser.ts';
import type { Directive, ServerBlock } from './parser.ts';
import { CorefileError } from './errors.ts';

/** Compact form: a directive is [name, ...args] plus its shaped block when it has one. */
type Shape = (string | Shape)[];
function shape(ds: readonly Directive[]): Shape[] {
  return ds.map((d) => (d.block ? [d.name, ...d.args, shape(d.block)] : [d.name, ...d.args]));
}
/** Zones of a block as `zone` or `zone:port`. */
function zones(b: ServerBlock): string[] {
  return b.keys.map((k) => (k.port === null ? k.zone : `${k.zone}:${k.port}`));
}
function parse(text: string, env: Record<string, string> = {}): ServerBlock[] {
  return parseCorefile(text, 'Corefile', { env });
}

const KUBEADM = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

test('kubeadm default Corefile', () => {
  const blocks = parse(KUBEADM);
  assert.equal(blocks.length, 1);
  const b = blocks[0]!;
  assert.deepEqual(b.keys, [{ raw: '.:53', scheme: 'dns', zone: '.', port: 53, file: 'Corefile', line: 1 }]);
  assert.equal(b.file, 'Corefile');
  assert.equal(b.line, 1);
  assert.deepEqual(shape(b.directives), [
    ['errors'],
    ['health', [['lameduck', '5s']]],
    ['ready'],
    [
      'kubernetes',
      'cluster.local',
      'in-addr.arpa',
      'ip6.arpa',
      [['pods', 'insecure'], ['fallthrough', 'in-addr.arpa', 'ip6.arpa'], ['ttl', '30']],
    ],
    ['prometheus', ':9153'],
    ['forward', '.', '/etc/resolv.conf', [['max_concurrent', '1000']]],
    ['cache', '30'],
    ['loop'],
    ['reload'],
    ['loadbalance'],
  ]);
  assert.deepEqual(
    b.directives.map((d) => d.line),
    [2, 3, 6, 7, 12, 13, 16, 17, 18, 19],
  );
  const k8s = b.directives[3]!;
  assert.deepEqual(
    k8s.block?.map((d) => [d.name, d.file, d.line]),
    [
      ['pods', 'Corefile', 8],
      ['fallthrough', 'Corefile', 9],
      ['ttl', 'Corefile', 10],
    ],
  );
  assert.equal(b.directives[0]!.block, null);
});

test('NodeLocal DNSCache Corefile', () => {
  const common = (upstream: string) => `    errors
    cache {
        success 9984 30
        denial 9984 5
    }
    reload
    loop
    bind 169.254.20.10
    forward . ${upstream} {
        force_tcp
    }
    prometheus :9253
    health 169.254.20.10:8080
`;
  const text = `cluster.local:53 {\n${common('10.96.0.10')}}\nin-addr.arpa:53 {\n${common('10.96.0.10')}}\nip6.arpa:53 {\n${common('10.96.0.10')}}\n.:53 {\n${common('/etc/resolv.conf')}}\n`;
  const blocks = parse(text);
  assert.deepEqual(blocks.map(zones), [['cluster.local.:53'], ['in-addr.arpa.:53'], ['ip6.arpa.:53'], ['.:53']]);
  assert.deepEqual(
    blocks.map((b) => b.line),
    [1, 16, 31, 46],
  );
  for (const b of blocks) {
    const s = shape(b.directives);
    assert.deepEqual(s[1], ['cache', [['success', '9984', '30'], ['denial', '9984', '5']]]);
    assert.deepEqual(s[4], ['bind', '169.254.20.10']);
    assert.deepEqual(s[5]![0], 'forward');
    assert.deepEqual(s[5]![3], [['force_tcp']]);
    assert.deepEqual(s[6], ['prometheus', ':9253']);
    assert.deepEqual(s[7], ['health', '169.254.20.10:8080']);
  }
  assert.deepEqual(shape(blocks[3]!.directives)[5], ['forward', '.', '/etc/resolv.conf', [['force_tcp']]]);
});

/** [name, corefile, expected zones per block, expected directive shapes per block] */
const VALID: [string, string, string[][], Shape[][]][] = [
  ['empty file', '', [], []],
  ['only comments', '# nothing\n   # here\n', [], []],
  ['empty block', '. {}', [['.']], [[]]],
  ['empty nested block written {}', '. {\n health {}\n log\n}', [['.']], [[['health', []], ['log']]]],
  ['empty block on two lines', 'example.org {\n}\n', [['example.org.']], [[]]],
  ['comments everywhere', '# head\n. { # keys\n  log # trailing\n  # whole line\n  errors#glued\n}\n', [['.']], [[['log'], ['errors']]]],
  ['space separated keys', 'a.org b.org:1053 {\n whoami\n}', [['a.org.', 'b.org.:1053']], [[['whoami']]]],
  ['comma separated keys', 'a.org, b.org,c.org {\n whoami\n}', [['a.org.', 'b.org.', 'c.org.']], [[['whoami']]]],
  ['keys continued after trailing comma', 'a.org,\n  b.org,\n  c.org {\n whoami\n}', [['a.org.', 'b.org.', 'c.org.']], [[['whoami']]]],
  ['key forms', 'dns://Example.ORG.:1053 :54 dns://. {\n}', [['example.org.:1053', '.:54', '.']], [[]]],
  ['braceless single block', 'example.org:1053\nwhoami\nlog stdout\nforward . 8.8.8.8 {\n  force_tcp\n}\n', [['example.org.:1053']], [[['whoami'], ['log', 'stdout'], ['forward', '.', '8.8.8.8', [['force_tcp']]]]]],
  ['braceless keys only', 'example.org\n', [['example.org.']], [[]]],
  ['one-line blocks', '. {\n health { lameduck 5s }\n cache 30 { success 9984 30 }\n}', [['.']], [[['health', [['lameduck', '5s']]], ['cache', '30', [['success', '9984', '30']]]]]],
  ['one-line block then more lines', '. {\n cache { success 1 2\n  denial 3 4 }\n}', [['.']], [[['cache', [['success', '1', '2'], ['denial', '3', '4']]]]]],
  ['whole Corefile on one line', '. { cache { success 1 } }', [['.']], [[['cache', [['success', '1']]]]]],
  ['two blocks one line each', '. { log }\nexample.org { errors }', [['.'], ['example.org.']], [[['log']], [['errors']]]],
  ['empty nested block', '. {\n health {\n }\n}', [['.']], [[['health', []]]]],
  ['deeply nested blocks', '. {\n a 1 {\n  b 2 {\n   c 3 {\n    d\n   }\n  }\n  e\n }\n}', [['.']], [[['a', '1', [['b', '2', [['c', '3', [['d']]]]], ['e']]]]]],
  ['quoted args', '. {\n template "a b" `c "d" \\n` "x\\"y" "p\\q" ""\n}', [['.']], [[['template', 'a b', 'c "d" \\n', 'x"y', 'p\\q', '']]]],
  ['quoted braces and hash are words', '. {\n rewrite "{" "}" "#x"\n}', [['.']], [[['rewrite', '{', '}', '#x']]]],
  ['CRLF line endings and tabs', '.:53 {\r\n\tlog\r\n\terrors\r\n}\r\n', [['.:53']], [[['log'], ['errors']]]],
  ['reverse zone keys', '10.0.0.0/23:53 1234:abcd::/64 {\n}', [['0.0.10.in-addr.arpa.:53', '1.0.10.in-addr.arpa.:53', '0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.']], [[]]],
  ['reverse zone /8 and v6 with port', '10.0.0.0/8 fd00::/8:1053 {\n}', [['10.in-addr.arpa.', 'd.f.ip6.arpa.:1053']], [[]]],
  ['port zero (a free port, as in tests)', '.:0 {\n}', [['.:0']], [[]]],
  ['same zone on different ports', 'example.org:53 {\n}\nexample.org:1053 {\n}\nexample.org {\n}', [['example.org.:53'], ['example.org.:1053'], ['example.org.']], [[], [], []]],
  ['snippet', '(common) {\n errors\n cache 30\n}\n. {\n import common\n log\n}', [['.']], [[['errors'], ['cache', '30'], ['log']]]],
  ['snippet with nested blocks used twice', '(fw) {\n forward . 1.1.1.1 {\n  force_tcp\n }\n}\na.org {\n import fw\n}\nb.org {\n import fw\n}', [['a.org.'], ['b.org.']], [[['forward', '.', '1.1.1.1', [['force_tcp']]]], [['forward', '.', '1.1.1.1', [['force_tcp']]]]]],
  ['snippet importing a snippet', '(a) {\n errors\n}\n(b) {\n import a\n log\n}\n. {\n import b\n}', [['.']], [[['errors'], ['log']]]],
  ['snippet imported in a nested block', '(opts) {\n pods insecure\n ttl 30\n}\n. {\n kubernetes cluster.local {\n  import opts\n }\n}', [['.']], [[['kubernetes', 'cluster.local', [['pods', 'insecure'], ['ttl', '30']]]]]],
  ['snippet at top level holding server blocks', '(blocks) {\n a.org {\n  log\n }\n b.org {\n  errors\n }\n}\nimport blocks\n', [['a.org.'], ['b.org.']], [[['log']], [['errors']]]],
  ['one-line import in block', '(s) {\n log\n}\n. { import s }', [['.']], [[['log']]]],
  ['empty snippet', '(s) {\n}\n. {\n import s\n log\n}', [['.']], [[['log']]]],
];

for (const [name, text, wantZones, wantDirs] of VALID) {
  test(`valid: ${name}`, () => {
    const blocks = parse(text);
    assert.deepEqual(blocks.map(zones), wantZones);
    assert.deepEqual(
      blocks.map((b) => shape(b.directives)),
      wantDirs,
    );
  });
}

/** [name, corefile, exact error message] */
const INVALID: [string, string, string][] = [
  ['stray close brace at top', '}', "Corefile:1: unexpected '}'"],
  ['extra close brace', '. {\n log\n}\n}', "Corefile:4: unexpected '}'"],
  ['close brace after one-line blocks', '. { log }\n example.org { errors } }', "Corefile:2: unexpected '}'"],
  ['close brace in braceless block', 'example.org\nlog\n}', "Corefile:3: unexpected '}'"],
  ['unclosed server block', '. {\n errors\n', "Corefile:1: unclosed '{'"],
  ['unclosed nested block', '. {\n health {\n  lameduck 5s\n', "Corefile:2: unclosed '{'"],
  ['unclosed outer block', 'a.org {\n}\n. {\n health {\n  lameduck 5s\n }\n', "Corefile:3: unclosed '{'"],
  ['unclosed snippet', '(s) {\n log\n', "Corefile:1: unclosed '{'"],
  ['open brace on its own line', '.:53\n{\n log\n}', 'Corefile:2: open brace must be on the same line as the server block keys'],
  ['open brace on its own line in a block', '. {\n forward . 1.1.1.1\n {\n  force_tcp\n }\n}', "Corefile:3: open brace must be on the same line as directive 'forward'"],
  ['open brace without keys', '{\n}', "Corefile:1: unexpected '{': expected server block keys before it"],
  ['words after a nested block', '. {\n cache { success 1 } log\n}', "Corefile:2: unexpected 'log' after '}' of directive 'cache'"],
  ['trailing comma before brace', 'a.org, {\n}', "Corefile:1: expected another server block key after ',' but found '{'"],
  ['trailing comma at end', 'a.org,', "Corefile:1: expected another server block key after ','"],
  ['unterminated quote', '. {\n log "abc\n def\n}\n', 'Corefile:2: unterminated quoted string'],
  ['snippet defined twice', '(s) {\n log\n}\n\n(s) {\n errors\n}', "Corefile:5: snippet 's' is defined twice (first at Corefile:1)"],
  ['snippet without braces', '(s)\nlog', "Corefile:1: snippet 's' needs a '{' block on the same line"],
  ['snippet key with other keys', '(s) a.org {\n}', "Corefile:1: a snippet definition '(s)' must be the only key of its block"],
  ['unknown snippet', '. {\n import nothere\n}', "Corefile:2: import 'nothere': no snippet or file with that name"],
  ['unknown snippet at top level', 'import nothere', "Corefile:1: import 'nothere': no snippet or file with that name"],
  ['snippet used before definition', '. {\n import s\n}\n(s) {\n log\n}', "Corefile:2: import 's': no snippet or file with that name"],
  ['import without argument', '. {\n import\n}', 'Corefile:2: import takes exactly one argument: a snippet name or a file path/glob'],
  ['import with two arguments', '(a) {\n}\n. {\n import a b\n}', 'Corefile:4: import takes exactly one argument: a snippet name or a file path/glob'],
  ['snippet importing itself', '(a) {\n log\n import a\n}\n. {\n import a\n}', 'Corefile:3: import cycle: (a) -> (a)'],
  ['snippets importing each other', '(a) {\n import b\n}\n(b) {\n import a\n}\n. {\n import a\n}', 'Corefile:5: import cycle: (a) -> (b) -> (a)'],
  ['bad port', 'example.org:abc {\n}', "Corefile:1: invalid port 'abc' in 'example.org:abc': must be a number from 0 to 65535"],
  ['port too large', 'a.org {\n}\n.:65536 {\n}', "Corefile:3: invalid port '65536' in '.:65536': must be a number from 0 to 65535"],
  ['empty port', 'example.org: {\n}', "Corefile:1: invalid port '' in 'example.org:': must be a number from 0 to 65535"],
  ['negative port', '.:-53 {\n}', "Corefile:1: invalid port '-53' in '.:-53': must be a number from 0 to 65535"],
  ['tls scheme', 'tls://.:853 {\n}', 'Corefile:1: scheme tls is not supported'],
  ['https scheme', 'https://.:443 {\n}', 'Corefile:1: scheme https is not supported'],
  ['grpc scheme', 'a.org {\n}\ngrpc://. {\n}', 'Corefile:3: scheme grpc is not supported'],
  ['quic scheme', 'QUIC://. {\n}', 'Corefile:1: scheme quic is not supported'],
  ['bad zone name', 'exa$mple.org {\n}', "Corefile:1: zone 'exa$mple.org' in 'exa$mple.org' is not a valid domain name"],
  ['empty label', 'a..org {\n}', "Corefile:1: zone 'a..org' in 'a..org' is not a valid domain name"],
  ['bad CIDR', '10.0.0.0/33 {\n}', "Corefile:1: invalid reverse zone in '10.0.0.0/33': '10.0.0.0/33' is not a CIDR: prefix length must be 0..32"],
  ['duplicate zone on a port', 'example.org:53 {\n}\nexample.org.:53 {\n}', "Corefile:3: duplicate zone 'example.org.' on port 53"],
  ['duplicate zone, case and dot differ', 'a.org {\n}\n\nExample.Org {\n}\nexample.org. {\n}', "Corefile:6: duplicate zone 'example.org.' on the default port"],
  ['duplicate zone in one block', 'a.org b.org a.org {\n}', "Corefile:1: duplicate zone 'a.org.' on the default port"],
  ['duplicate reverse zone', '10.0.0.0/23:53 {\n}\n1.0.10.in-addr.arpa:53 {\n}', "Corefile:3: duplicate zone '1.0.10.in-addr.arpa.' on port 53"],
];

for (const [name, text, message] of INVALID) {
  test(`invalid: ${name}`, () => {
    assert.throws(
      () => parse(text),
      (e: unknown) => {
        assert.ok(e instanceof CorefileError, `not a CorefileError: ${String(e)}`);
        assert.equal(e.message, message);
        return true;
      },
    );
  });
}

test('CorefileError carries file, line and the bare message', () => {
  const e = new CorefileError('Corefile', 3, "unexpected '}'");
  assert.equal(e.message, "Corefile:3: unexpected '}'");
  assert.equal(e.file, 'Corefile');
  assert.equal(e.line, 3);
  assert.equal(e.what, "unexpected '}'");
  assert.ok(e instanceof Error);
  const d = parse('. {\n  log a b\n}')[0]!.directives[0]!;
  assert.equal(CorefileError.at(d, 'too many arguments').message, 'Corefile:2: too many arguments');
});

test('a quoted token keeps the line it starts on; later lines are counted', () => {
  const b = parse('. {\n template "line\ntwo\nthree" after\n log\n}')[0]!;
  assert.deepEqual(shape(b.directives), [['template', 'line\ntwo\nthree', 'after'], ['log']]);
  assert.deepEqual(
    b.directives.map((d) => d.line),
    [2, 5],
  );
});

test('environment substitution', () => {
  const env = { ZONE: 'example.org', PORT: '1053', UP: '10.0.0.1', EMPTY: '' };
  const b = parse('{$ZONE}:{$PORT} {\n forward . {$UP}:53 {%UP%}\n log "{$ZONE}" pre{$MISSING}post\n cache `{$UP}`\n}', env)[0]!;
  assert.deepEqual(zones(b), ['example.org.:1053']);
  assert.equal(b.keys[0]!.raw, 'example.org:1053');
  assert.deepEqual(shape(b.directives), [
    ['forward', '.', '10.0.0.1:53', '10.0.0.1'],
    ['log', 'example.org', 'prepost'],
    ['cache', '{$UP}'],
  ]);
});

test('environment defaults to process.env', () => {
  process.env.CLUSTERDNS_PARSER_TEST = 'from-env';
  try {
    const b = parseCorefile('. {\n log {$CLUSTERDNS_PARSER_TEST}\n}', 'Corefile')[0]!;
    assert.deepEqual(shape(b.directives), [['log', 'from-env']]);
  } finally {
    delete process.env.CLUSTERDNS_PARSER_TEST;
  }
});

test('directives from a snippet keep the position of the snippet text', () => {
  const b = parse('(s) {\n errors\n}\n. {\n log\n import s\n}')[0]!;
  assert.deepEqual(
    b.directives.map((d) => [d.name, d.line]),
    [
      ['log', 5],
      ['errors', 2],
    ],
  );
});

test('multiple zones per key keep raw, port and line', () => {
  const b = parse('\n\n10.0.0.0/22:5353, example.org {\n}')[0]!;
  assert.equal(b.keys.length, 5);
  assert.ok(b.keys.slice(0, 4).every((k) => k.raw === '10.0.0.0/22:5353' && k.port === 5353 && k.line === 3));
  assert.deepEqual(b.keys[4], { raw: 'example.org', scheme: 'dns', zone: 'example.org.', port: null, file: 'Corefile', line: 3 });
  assert.equal(b.line, 3);
});

test('reverse zone /17 key expands to 128 zones', () => {
  const b = parse('10.0.0.0/17 {\n}')[0]!;
  assert.equal(b.keys.length, 128);
  assert.equal(b.keys[127]!.zone, '127.0.10.in-addr.arpa.');
});

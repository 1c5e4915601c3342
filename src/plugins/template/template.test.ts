/**
 * @module plugins/template/template.test
 * template: CoreDNS README examples served through the whole chain (AAAA
 * suppression, IP-in-name A/PTR, parseInt, .invalid NXDOMAIN with SOA and an
 * extended error, zone-scoped NXDOMAIN), regex/zone/fallthrough rules, the
 * Go-template subset, metrics, option errors, and one real dig.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToIp } from '../../dns/ip.ts';
import { Rcode } from '../../dns/constants.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { dig, inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { rrLine } from '../../../test/support/k8s-dns.ts';
import { setupError } from '../../../test/support/setup-error.ts';
import { GoTemplate } from './gotemplate.ts';

const COREFILE = `
.:0 {
  bind 127.0.0.1
  template IN AAAA v4only.test {
    rcode NOERROR
  }
  template IN A example {
    match (^|[.])ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
    answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
    fallthrough
  }
  template IN A example {
    match "^ip0a(?P<b>[a-f0-9]{2})(?P<c>[a-f0-9]{2})(?P<d>[a-f0-9]{2})[.]example[.]$"
    answer "{{ .Name }} 60 IN A 10.{{ parseInt .Group.b 16 8 }}.{{ parseInt .Group.c 16 8 }}.{{ parseInt .Group.d 16 8 }}"
    fallthrough
  }
  template IN MX example {
    match ^mx-(?P<n>[0-9]+)[.]example[.]$
    answer "{{ .Name }} 60 IN MX {{ .Group.n }} mail.{{ .Zone }}"
    additional "mail.{{ .Zone }} 60 IN A 192.0.2.25"
    authority "{{ .Zone }} 60 IN NS ns0.{{ .Zone }}"
  }
  template IN PTR in-addr.arpa {
    match ^(?P<d>[0-9]*)[.](?P<c>[0-9]*)[.](?P<b>[0-9]*)[.](?P<a>[0-9]*)[.]in-addr[.]arpa[.]$
    answer "{{ .Name }} 60 IN PTR ip-{{ .Group.a }}-{{ .Group.b }}-{{ .Group.c }}-{{ .Group.d }}.example."
  }
  template ANY ANY invalid {
    rcode NXDOMAIN
    authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
    ederror 21 "Blocked according to RFC2606"
  }
  template IN TXT bad.test {
    answer "{{ .Name }} 60 IN TXT {{ index .Match 3 }}"
    answer "{{ .Name }} 60 IN BOGUS x"
  }
  template IN TXT remote.test {
    answer "{{ .Name }} 5 IN TXT \\"{{ .Remote }} {{ .Type }} {{ .Class }} {{ index .Match 0 }}\\""
  }
  hosts {
    192.0.2.80 www.v4only.test
    192.0.2.81 other.example
    fallthrough
  }
}`;

let srv: TestServer;
before(async () => { srv = await startServer(COREFILE); });
after(async () => { await srv.stop(); });

interface Case { name: string; type: string; rcode: number; answer: string[]; authority?: string[]; additional?: string[] }
const cases: Case[] = [
  // AAAA suppression: NOERROR with nothing, while A still comes from the next plugin.
  { name: 'www.v4only.test.', type: 'AAAA', rcode: Rcode.NOERROR, answer: [] },
  { name: 'www.v4only.test.', type: 'A', rcode: Rcode.NOERROR, answer: ['www.v4only.test. 3600 IN A 192.0.2.80'] },
  // IP in the name, and its wildcard-like subdomains (README: "the A record is actually a wildcard").
  { name: 'ip-10-1-2-3.example.', type: 'A', rcode: Rcode.NOERROR, answer: ['ip-10-1-2-3.example. 60 IN A 10.1.2.3'] },
  { name: 'a.ip-192-0-2-9.example.', type: 'A', rcode: Rcode.NOERROR, answer: ['a.ip-192-0-2-9.example. 60 IN A 192.0.2.9'] },
  { name: 'ip0a7b7c7d.example.', type: 'A', rcode: Rcode.NOERROR, answer: ['ip0a7b7c7d.example. 60 IN A 10.123.124.125'] },
  // No regex matched, fallthrough: the next plugin answers.
  { name: 'other.example.', type: 'A', rcode: Rcode.NOERROR, answer: ['other.example. 3600 IN A 192.0.2.81'] },
  { name: '4.3.2.10.in-addr.arpa.', type: 'PTR', rcode: Rcode.NOERROR, answer: ['4.3.2.10.in-addr.arpa. 60 IN PTR ip-10-2-3-4.example.'] },
  {
    name: 'mx-5.example.', type: 'MX', rcode: Rcode.NOERROR, answer: ['mx-5.example. 60 IN MX 5 mail.example.'],
    authority: ['example. 60 IN NS ns0.example.'], additional: ['mail.example. 60 IN A 192.0.2.25'],
  },
  // No regex matched, no fallthrough: SERVFAIL, as CoreDNS.
  { name: 'nope.example.', type: 'MX', rcode: Rcode.SERVFAIL, answer: [] },
  { name: 'x.y.invalid.', type: 'A', rcode: Rcode.NXDOMAIN, answer: [], authority: ['invalid. 60 IN SOA ns.invalid. hostmaster.invalid. SERIAL 60 60 60 60'] },
  { name: 'x.invalid.', type: 'TXT', rcode: Rcode.NXDOMAIN, answer: [], authority: ['invalid. 60 IN SOA ns.invalid. hostmaster.invalid. SERIAL 60 60 60 60'] },
  // A template that fails at query time (index out of range) is SERVFAIL.
  { name: 'bad.test.', type: 'TXT', rcode: Rcode.SERVFAIL, answer: [] },
  { name: 'remote.test.', type: 'TXT', rcode: Rcode.NOERROR, answer: ['remote.test. 5 IN TXT "127.0.0.1 TXT IN remote.test."'] },
];


describe('template answers', () => {
  for (const c of cases) {
    it(`${c.name} ${c.type} -> ${c.rcode} ${c.answer.join(', ')}`, async () => {
      const m = await inject(srv.app, c.name, c.type);
      assert.equal(m.rcode, c.rcode);
      assert.deepEqual(m.answer.map(rrLine), c.answer);
      if (c.authority) assert.deepEqual(m.authority.map(rrLine), c.authority);
      if (c.additional) assert.deepEqual(m.additional.map(rrLine), c.additional);
      if (c.rcode === Rcode.NOERROR && c.answer[0]?.includes(' 60 ')) assert.ok((m.flags & 0x0400) !== 0, 'authoritative');
    });
  }

  it('QTYPE ANY matches an A template; a CH-class query matches only ANY-class templates', async () => {
    const any = await inject(srv.app, 'ip-10-9-9-9.example.', 'ANY');
    assert.deepEqual(any.answer.map((r) => bytesToIp(r.data)), ['10.9.9.9']);
    const ch = await inject(srv.app, 'x.invalid.', 'TXT', { qclass: 3 });
    assert.equal(ch.rcode, Rcode.NXDOMAIN);
    assert.equal(ch.authority[0]?.class, 3, '{{ .Class }} is CH');
  });

  it('dig sees the extended DNS error and the SOA of the .invalid template', async () => {
    const r = await dig(srv.port, 'host.invalid', 'A');
    assert.equal(r.status, 'NXDOMAIN');
    assert.match(r.raw, /EDE: 21 \(Not Supported\)|EDE: 21.*Blocked according to RFC2606/);
    assert.equal(r.authority[0]?.type, 'SOA');
  });

  it('counts matches and both kinds of failure under CoreDNS names', async () => {
    await inject(srv.app, 'bad.test.', 'TXT');
    const text = await metricsRegistry(srv.app.services).metrics();
    assert.match(text, /coredns_template_matches_total\{server="dns:\/\/:0",zone="example\.",view="",class="IN",type="A"\} \d+/);
    assert.match(text, /coredns_template_template_failures_total\{[^}]*section="answer",template="\{\{ \.Name \}\} 60 IN TXT \{\{ index \.Match 3 \}\}"\} \d+/);
    const rr = await startServer('.:0 {\n bind 127.0.0.1\n template IN TXT {\n  answer "{{ .Name }} 60 IN BOGUS x"\n }\n}');
    try {
      assert.equal((await inject(rr.app, 'a.', 'TXT')).rcode, Rcode.SERVFAIL);
      assert.match(await metricsRegistry(rr.app.services).metrics(), /coredns_template_rr_failures_total\{.*section="answer",template="\{\{ \.Name \}\} 60 IN BOGUS x"\} 1/);
    } finally { await rr.stop(); }
  });
});

describe('Go template subset', () => {
  const data = {
    Name: 'a.b.', Type: 'A', Empty: '', Match: ['a.b.', 'a'], None: [], Group: new Map([['x', '0a'], ['1', '1']]), NoGroups: new Map(),
    Meta: (n: unknown) => `meta:${String(n)}`,
  };
  const table: [string, string][] = [
    ['{{ .Name }}', 'a.b.'],
    ['{{.Name}}x', 'a.b.x'],
    ['{{ index .Match 1 }}', 'a'],
    ['{{ parseInt .Group.x 16 8 }}', '10'],
    ['{{ .Group.missing }}', '<no value>'],
    ['{{ .Meta "kubernetes/client-namespace" }}', 'meta:kubernetes/client-namespace'],
    ['{{ printf "%s-%03d" .Name 7 }}', 'a.b.-007'],
    ['{{ .Name | len }}', '4'],
    ['a  {{- .Name -}}  b', 'aa.b.b'],
    // if / else if / else / end, with Go's truth (empty string, 0, empty list or map are false).
    ['{{ if .Name }}yes{{ end }}', 'yes'],
    ['{{ if .Empty }}yes{{ end }}', ''],
    ['{{ if .Empty }}yes{{ else }}no{{ end }}', 'no'],
    ['{{ if eq (index .Match 1) "b" }}B{{ else if eq (index .Match 1) "a" }}A{{ else }}?{{ end }}', 'A'],
    ['{{ if eq .Type "TXT" "A" }}one of{{ end }}', 'one of'],
    ['{{ if ne .Type "A" }}x{{ else }}not{{ end }}', 'not'],
    ['{{ if gt (len .Match) 1 }}groups{{ end }}', 'groups'],
    ['{{ if and .Name .Empty }}both{{ else if or .Empty .Name }}either{{ end }}', 'either'],
    ['{{ if not .Empty }}{{ if .Group.x }}nested {{ .Group.x }}{{ end }}{{ end }}', 'nested 0a'],
    ['{{ if .NoGroups }}x{{ else }}empty map{{ end }}', 'empty map'],
    ['{{- if .Name }}\n  trimmed\n{{- end }}', '\n  trimmed'],
    // range over .Match (in order) and .Group (values by sorted key); . is each element; $ the top.
    ['{{ range .Match }}[{{ . }}]{{ end }}', '[a.b.][a]'],
    ['{{ range .Group }}{{ . }},{{ end }}', '1,0a,'],
    ['{{ range .Match }}{{ $.Name }}{{ end }}', 'a.b.a.b.'],
    ['{{ range .None }}x{{ else }}nothing{{ end }}', 'nothing'],
    ['{{ range .Match }}{{ if eq . "a" }}<{{ . }}>{{ end }}{{ end }}', '<a>'],
    ['{{ range .Match }}{{ len . }} {{ end }}', '4 1 '],
  ];
  for (const [src, want] of table) it(`${src} -> ${want}`, () => assert.equal(new GoTemplate(src).execute(data), want));
  it('fails at run time like Go (index out of range, bad parseInt)', () => {
    assert.throws(() => new GoTemplate('{{ index .Match 5 }}').execute(data), /index out of range/);
    assert.throws(() => new GoTemplate('{{ parseInt .Name 16 8 }}').execute(data), /ParseUint/);
    assert.throws(() => new GoTemplate('{{ if eq .Name 1 }}x{{ end }}').execute(data), /incompatible types for comparison/);
    assert.throws(() => new GoTemplate('{{ range .Name }}x{{ end }}').execute(data), /range can't iterate over a\.b\./);
    assert.throws(() => new GoTemplate('{{ range .Match }}{{ .Name }}{{ end }}').execute(data), /can't evaluate field Name/);
  });
  const bad: [string, RegExp][] = [
    ['{{ end }}', /unexpected \{\{end\}\}/],
    ['{{ if .Name }}a{{ else }}b{{ else }}c{{ end }}', /expected end; found \{\{else\}\}/],
    ['{{ range .Match }}a{{ else if .Name }}b{{ end }}', /unexpected \{\{else if \.Name\}\} in range/],
    ['{{ if }}x{{ end }}', /missing value for command/],
    ['{{ range $i, $e := .Match }}{{ end }}', /template variables/],
    ['{{ if .Name }}{{ break }}{{ end }}', /'break' actions are not supported/],
    ['{{ index (.Match 1 }}', /unclosed left paren/],
    [`${'{{ if .Name }}'.repeat(40)}${'{{ end }}'.repeat(40)}`, /more than 32 nested actions/],
  ];
  for (const [src, want] of bad) it(`rejects ${src.slice(0, 60)} when compiled`, () => assert.throws(() => new GoTemplate(src), want));
});

describe('template options', () => {
  const bad: [string, string][] = [
    ['template IN', "Corefile:3: plugin/template: 'template' takes at least 2 arguments, got 1"],
    ['template XX A', 'Corefile:3: plugin/template: invalid query class XX'],
    ['template IN BOGUS', 'Corefile:3: plugin/template: invalid RR type BOGUS'],
    ['template IN A {\n  match "(["\n }', 'Corefile:4: plugin/template: could not parse regex: ([, Invalid regular expression: /([/: Unterminated character class'],
    ['template IN A {\n  answer "{{ .Name "\n }', "Corefile:4: plugin/template: could not compile template: {{ .Name , unclosed action in '{{ .Name '"],
    ['template IN A {\n  answer "{{ with .Name }}x{{ end }}"\n }', "Corefile:4: plugin/template: could not compile template: {{ with .Name }}x{{ end }}, 'with' actions are not supported"],
    ['template IN A {\n  answer "{{ if .Name }}x"\n }', "Corefile:4: plugin/template: could not compile template: {{ if .Name }}x, unexpected EOF in '{{ if .Name }}x': an if or range without its {{end}}"],
    ['template IN A {\n  rcode WHAT\n }', 'Corefile:4: plugin/template: unknown rcode WHAT'],
    ['template IN A {\n  ederror 99\n }', 'Corefile:4: plugin/template: extended error code 99 is out of range 0..24'],
    ['template IN A {\n  fallthru\n }', "Corefile:4: plugin/template: unknown property 'fallthru'"],
  ];
  for (const [text, want] of bad) {
    it(`rejects ${text.split('\n').join(' ')}`, () => assert.equal(setupError(`.:53 {\n bind 127.0.0.1\n ${text}\n}`), want));
  }
  it('accepts every section and option', () => {
    assert.equal(setupError('.:53 {\n template IN A example.org {\n  match ^a\n  answer "{{ .Name }} 60 IN A 10.0.0.1"\n  additional "x. 1 IN A 10.0.0.2"\n  authority "x. 1 IN NS y."\n  rcode NOERROR\n  ederror 0 why\n  fallthrough\n }\n}'), '');
  });
});

describe('if and range in a Corefile template (the README example), through dig', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer(['.:0 {', '  bind 127.0.0.1',
      '  template IN A app.example {', '    match "^(?P<env>dev|prod)[.]app[.]example[.]$"',
      '    answer "{{ .Name }} 60 IN A {{ if eq .Group.env `prod` }}10.0.0.1{{ else }}10.0.1.1{{ end }}"', '  }',
      '  template IN TXT app.example {', '    match "^(?P<env>[a-z]+)[.]app[.]example[.]$"',
      '    answer "{{ .Name }} 60 IN TXT \\"{{ range .Match }}[{{ . }}]{{ end }}\\""', '  }', '}', ''].join('\n'));
  });
  after(async () => { await srv?.stop(); });
  it('if/else picks the address by the captured group', async () => {
    assert.deepEqual((await dig(srv.port, 'A', 'prod.app.example.')).answer.map((a) => a.data), ['10.0.0.1']);
    assert.deepEqual((await dig(srv.port, 'A', 'dev.app.example.')).answer.map((a) => a.data), ['10.0.1.1']);
  });
  it('range writes every match', async () => {
    assert.deepEqual((await dig(srv.port, 'TXT', 'qa.app.example.')).answer.map((a) => a.data), ['"[qa.app.example.][qa]"']);
  });
});


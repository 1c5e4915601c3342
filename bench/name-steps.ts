/**
 * @module bench/name-steps
 * The question name's steps on the hot path, the two ways, in one process:
 * building its text, three zone checks on the text and a Map lookup by it
 * (what the server did), against scanning it, the same checks on the wire
 * (DnsRequest.under), a lookup by its hash and the compare in place (what it
 * does: dns/name.ts scanPlainName, plugins/kubernetes/answer-cache.ts). The
 * mixes' query files (as micro.ts --steady) in file order, the tables
 * holding every name of the mix. CPU ns per query, median and best of 9
 * interleaved rounds.
 *
 *   node bench/name-steps.ts [--services 10000] [--mixes hit-a,nxdomain-search,srv,ptr,blend]
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { typeFromName } from '../src/dns/constants.ts';
import { encodeQuery } from '../src/dns/message.ts';
import { isSubdomain, lastPlainHash, plainNameIs, plainNameUnder, plainTextHash, readNameText, scanPlainName } from '../src/dns/name.ts';
import { generate, type Mix } from './cluster-gen.ts';

const argAfter = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const services = Number(argAfter('--services') ?? 10_000);
const wanted = (argAfter('--mixes') ?? 'hit-a,nxdomain-search,srv,ptr,blend').split(',') as Mix[];
const dir = path.join(tmpdir(), `clusterdns-micro-${services}-100000`);
mkdirSync(dir, { recursive: true });
const data = generate({ services, outDir: dir, queryLines: 100_000 });
// The kubernetes plugin's zones, longest first, as its handler tries them.
const ZONES = ['cluster.local.', 'in-addr.arpa.', 'ip6.arpa.'];
const ROUNDS = 9;

let sink = 0;
for (const mix of wanted) {
  const file = data.mixes[mix];
  if (file === undefined) throw new Error(`no mix ${mix}`);
  const qs = readFileSync(file.path, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [name, type] = line.split(' ') as [string, string];
    return encodeQuery(`${name}.`, typeFromName(type)!, { id: 1 });
  });
  const byText = new Map<string, { name: string }>();
  const byHash = new Map<number, { name: string }>();
  for (const q of qs) {
    const name = readNameText(q, 12);
    const e = { name };
    byText.set(name, e);
    byHash.set(plainTextHash(name), e);
  }
  const ways: Record<string, () => void> = {
    'text: build, 3 zone checks, Map by text': () => {
      for (const q of qs) {
        const n = readNameText(q, 12);
        let z = 0;
        // Routing, the cache's kept-zone check, the plugin's zone: three checks.
        for (let k = 0; k < 3; k++) for (let i = 0; i < ZONES.length; i++) if (isSubdomain(n, ZONES[i]!)) { z += i; break; }
        sink += z + byText.get(n)!.name.length;
      }
    },
    'wire: scan, 3 zone checks, Map by hash': () => {
      for (const q of qs) {
        const end = scanPlainName(q, 12);
        let z = 0;
        for (let k = 0; k < 3; k++) for (let i = 0; i < ZONES.length; i++) if (plainNameUnder(q, 12, end, ZONES[i]!)) { z += i; break; }
        const e = byHash.get(lastPlainHash());
        if (e !== undefined && plainNameIs(q, 12, end, e.name)) sink += z + e.name.length;
      }
    },
  };
  const cpu: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [way, run] of Object.entries(ways)) {
      const c0 = process.cpuUsage();
      run();
      const c = process.cpuUsage(c0);
      (cpu[way] ??= []).push(((c.user + c.system) * 1e3) / qs.length);
    }
  }
  console.log(`${mix}: ${qs.length} questions, ${byText.size} distinct`);
  for (const [way, xs] of Object.entries(cpu)) {
    const s = [...xs].sort((a, b) => a - b);
    console.log(`  ${way.padEnd(40)} median ${s[s.length >> 1]!.toFixed(0)} ns  best ${s[0]!.toFixed(0)} ns`);
  }
}
if (sink === -1) console.log(sink);

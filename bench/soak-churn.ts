/**
 * @module bench/soak-churn
 * The moving parts of the soak (bench/soak.ts) that talk to the cluster: the
 * control channel of the API test server process (bench/fake-api-process.ts),
 * the churn (a Service, headless ones with an EndpointSlice, created or
 * deleted every tick, each with the A records it must answer), and the
 * verifying client, which asks only names that exist at that moment (long
 * enough to have reached the server) and checks the answer's rcode and
 * addresses. Which names exist is known here, so the end check (every live
 * name answers, every deleted one is NXDOMAIN) needs no second source.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Rcode, Type } from '../src/dns/constants.ts';
import type { DecodedMessage } from '../src/dns/message.ts';
import { UdpClient } from '../test/support/udp-client.ts';
import { fqdnOf, Rng, serviceManifest, sliceManifest, type GenService } from './cluster-gen.ts';

/** The API test server in its own process, driven through its stdin; replies come back in order. */
export class ApiProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly #replies: ((r: Record<string, unknown>) => void)[] = [];

  private constructor(child: ChildProcess, url: string, lines: AsyncIterator<string>) {
    this.child = child;
    this.url = url;
    void (async () => {
      for (;;) {
        const n = await lines.next();
        if (n.done === true) return;
        this.#replies.shift()?.(JSON.parse(n.value) as Record<string, unknown>);
      }
    })();
  }

  static async start(services: number): Promise<ApiProcess> {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fake-api-process.ts'), '--services', String(services)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done === true) throw new Error('the API test server process ended before listening');
    return new ApiProcess(child, (JSON.parse(first.value) as { url: string }).url, lines);
  }

  /** One command (see bench/fake-api-process.ts); resolves with its reply line; rejects on an error reply. */
  send(command: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#replies.push((r) => { if (typeof r.error === 'string') reject(new Error(r.error)); else resolve(r); });
      this.child.stdin!.write(`${command}\n`);
    });
  }

  stop(): Promise<void> {
    return new Promise((r) => { this.child.once('exit', () => r()); this.child.stdin!.end(); });
  }
}

/** A name the verifier may ask, with the addresses its A answer must hold. */
export interface KnownName {
  readonly name: string;
  readonly addresses: readonly string[];
}

interface ChurnedService extends KnownName {
  readonly svc: GenService;
  /** Asked by the verifier from this time (ms); Infinity while created during an API outage. */
  visibleFrom: number;
}

/** Expected A addresses of a service: its cluster IP, or a headless one's ready endpoints. */
export function expectedAddresses(s: GenService): string[] {
  return s.clusterIP !== null ? [s.clusterIP] : s.endpoints.filter((e) => e.ready).map((e) => e.ip);
}

export const CHURN_NAMESPACE = 'soak';

/**
 * Creates or deletes one object every tick: the churned set hovers around
 * `target` services, half headless with an EndpointSlice of two endpoints.
 * Names are never reused, so a deleted name must stay gone.
 */
export class Churn {
  readonly #api: ApiProcess;
  readonly #rng = new Rng(17);
  readonly #live = new Map<string, ChurnedService>();
  /** Deleted names with when their delete was acknowledged (ms on the caller's clock). */
  readonly deleted: { name: string; t: number }[] = [];
  readonly #target: number;
  /** How long after its create was acknowledged a name counts as served (the watch delivers it). */
  readonly #settleMs: number;
  #next = 0;
  #apiDown = false;
  created = 0;
  removed = 0;
  errors = 0;

  constructor(api: ApiProcess, target = 200, settleMs = 3000) {
    this.#api = api;
    this.#target = target;
    this.#settleMs = settleMs;
  }

  get live(): readonly KnownName[] { return [...this.#live.values()]; }

  /** The API server goes down: names created from now on are not served until the server's watch is back. */
  apiDown(): void { this.#apiDown = true; }

  /**
   * The API server is back: its clients reconnect after their backoff, so
   * until a name created now (`sentinel`) is answered, new names stay
   * unasked; then catchingUp() is null again and caughtUp() runs.
   */
  async apiUp(): Promise<void> {
    const svc = this.#service(this.#next++, false);
    await this.#api.send(`create ${JSON.stringify(serviceManifest(svc))}`);
    this.#sentinel = { name: fqdnOf(svc), addresses: expectedAddresses(svc) };
  }

  /** The name whose answer says the watch is back, while the server is catching up after an outage. */
  get catchingUp(): KnownName | null { return this.#sentinel; }

  /** The sentinel answered at `now`: every name created while down or catching up is asked from `now + settle`. */
  caughtUp(now: number): void {
    this.#sentinel = null;
    this.#apiDown = false;
    for (const s of this.#live.values()) if (s.visibleFrom === Infinity) s.visibleFrom = now + this.#settleMs;
  }

  #sentinel: KnownName | null = null;

  #service(n: number, headless: boolean): GenService {
    const ip = (base: number, k: number): string => `10.${base}.${(k >> 8) & 255}.${k & 255}`;
    return {
      namespace: CHURN_NAMESPACE, name: `churn-${n}`, clusterIP: headless ? null : ip(200, n),
      ports: [{ name: 'http', port: 80, protocol: 'tcp' }],
      endpoints: headless ? [0, 1].map((i) => ({ ip: ip(201 + i, n), ready: true, hostname: null, podName: `churn-${n}-${i}`, nodeName: 'node-1' })) : [],
    };
  }

  /** One create or delete. */
  async tick(now: () => number): Promise<void> {
    const grow = this.#live.size < this.#target / 2 || (this.#live.size < this.#target * 2 && this.#rng.chance(0.5));
    try {
      if (grow) await this.#create(now);
      else await this.#delete(now);
    } catch {
      this.errors++;
    }
  }

  async #create(now: () => number): Promise<void> {
    const n = this.#next++;
    const headless = n % 2 === 1;
    const svc = this.#service(n, headless);
    const unseen = (): boolean => this.#apiDown || this.#sentinel !== null;
    const unseenAtSend = unseen();
    await this.#api.send(`create ${JSON.stringify(serviceManifest(svc))}`);
    if (headless) await this.#api.send(`create ${JSON.stringify(sliceManifest(svc, 's1'))}`);
    this.created++;
    this.#live.set(svc.name, { svc, name: fqdnOf(svc), addresses: expectedAddresses(svc), visibleFrom: unseenAtSend || unseen() ? Infinity : now() + this.#settleMs });
  }

  async #delete(now: () => number): Promise<void> {
    const names = [...this.#live.keys()];
    if (names.length === 0) return;
    const key = this.#rng.pick(names);
    const s = this.#live.get(key)!;
    // Not asked any more from the moment the delete is sent.
    this.#live.delete(key);
    if (s.svc.clusterIP === null) await this.#api.send(`delete EndpointSlice ${CHURN_NAMESPACE} ${s.svc.name}-s1`);
    await this.#api.send(`delete Service ${CHURN_NAMESPACE} ${s.svc.name}`);
    this.removed++;
    this.deleted.push({ name: s.name, t: now() });
  }

  /** A churned name the server must answer now, or null. */
  pickVisible(now: number): KnownName | null {
    const ok = [...this.#live.values()].filter((s) => s.visibleFrom <= now);
    return ok.length === 0 ? null : this.#rng.pick(ok);
  }
}

export interface CheckCounts {
  checks: number;
  ok: number;
  servfail: number;
  nxdomain: number;
  wrong: number;
  timeout: number;
  examples: string[];
}

export const newCounts = (): CheckCounts => ({ checks: 0, ok: 0, servfail: 0, nxdomain: 0, wrong: 0, timeout: 0, examples: [] });

function aAddresses(m: DecodedMessage): string[] {
  return m.answer.filter((r) => r.type === Type.A).map((r) => [...r.data].join('.')).sort();
}

/** Asks `known` for A and counts the outcome into `c`: OK only for NOERROR with exactly the expected addresses. */
export async function verifyName(client: UdpClient, known: KnownName, c: CheckCounts, timeoutMs = 2000): Promise<boolean> {
  c.checks++;
  let m: DecodedMessage;
  try {
    m = await client.query(known.name, Type.A, { timeoutMs });
  } catch {
    c.timeout++;
    if (c.examples.length < 5) c.examples.push(`${known.name}: no answer`);
    return false;
  }
  const got = aAddresses(m);
  const want = [...known.addresses].sort();
  if (m.rcode === Rcode.NOERROR && got.join() === want.join()) { c.ok++; return true; }
  if (m.rcode === Rcode.SERVFAIL) c.servfail++;
  else if (m.rcode === Rcode.NXDOMAIN) c.nxdomain++;
  else c.wrong++;
  if (c.examples.length < 5) c.examples.push(`${known.name}: rcode ${m.rcode} [${got.join(' ')}], want [${want.join(' ')}]`);
  return false;
}

/** Asks every name in `names` (at most `parallel` at a time); returns how many failed `check`. */
export async function askAll<T>(names: readonly T[], parallel: number, check: (n: T) => Promise<boolean>): Promise<number> {
  let failed = 0;
  let i = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (i < names.length) { const n = names[i++]!; if (!(await check(n))) failed++; }
  }));
  return failed;
}

export { UdpClient };

/**
 * @module bench/peers/go-map
 * A tiny Go server on github.com/miekg/dns (CoreDNS's DNS library) answering
 * from a map loaded from the zone files: the stand-in for "CoreDNS's engine"
 * without its plugin chain. Built offline from bench/peers/go-map/main.go
 * against Debian's golang-github-miekg-dns-dev (GO111MODULE=off,
 * GOPATH=/usr/share/gocode) into bench/work/bin, rebuilt when the source is
 * newer. Go sees one CPU through the taskset affinity (GOMAXPROCS=1).
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ZoneData } from '../cluster-gen.ts';
import type { Peer, RunningPeer } from './types.ts';
import { findBinary, freePort, launch, versionOf } from './process.ts';

const SRC_DIR = path.join(import.meta.dirname, 'go-map');
const BIN_DIR = path.join(import.meta.dirname, '..', 'work', 'bin');
const BIN = path.join(BIN_DIR, 'go-map-dns');
const GOPATH = '/usr/share/gocode';

let built: Promise<string> | null = null;

function build(): Promise<string> {
  built ??= (async () => {
    const go = findBinary('go');
    if (!go) throw new Error('go not installed (golang-go; run bench/install.sh)');
    if (!existsSync(path.join(GOPATH, 'src', 'github.com', 'miekg', 'dns'))) {
      throw new Error('github.com/miekg/dns not under /usr/share/gocode (golang-github-miekg-dns-dev; run bench/install.sh)');
    }
    const src = path.join(SRC_DIR, 'main.go');
    if (existsSync(BIN) && statSync(BIN).mtimeMs >= statSync(src).mtimeMs) return BIN;
    mkdirSync(BIN_DIR, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      execFile(go, ['build', '-o', BIN, '.'], {
        cwd: SRC_DIR,
        timeout: 300_000,
        env: {
          ...process.env,
          GO111MODULE: 'off',
          GOPATH,
          GOFLAGS: '',
          GOPROXY: 'off',
          GOCACHE: path.join(BIN_DIR, '..', 'go-cache'),
        },
      }, (err, _stdout, stderr) => (err ? reject(new Error(`go build failed offline: ${stderr || err.message}`)) : resolve()));
    });
    return BIN;
  })();
  return built;
}

export const goMap: Peer = {
  name: 'go-miekg',
  description: 'Go map server on github.com/miekg/dns (CoreDNS\'s DNS library, no plugin chain), GOMAXPROCS=1 via affinity',
  version: async () => {
    const go = await versionOf(findBinary('go'), ['version'], /go version go(\S+)/);
    const lib = await versionOf(findBinary('dpkg-query'), ['-W', '-f', '${Version}', 'golang-github-miekg-dns-dev'], /^(\S+)/);
    return go ? `go${go}, miekg/dns ${lib ?? '?'}` : null;
  },
  async start(zoneData: ZoneData, workDir: string): Promise<RunningPeer> {
    const bin = await build();
    const port = await freePort();
    return launch({
      name: 'go-miekg', cmd: bin,
      args: ['-addr', `127.0.0.1:${port}`, ...zoneData.zones.map((z) => z.path)],
      port, workDir, readyTimeoutMs: 120_000,
    });
  },
};

/**
 * @module plugins/bufsize/bufsize.test
 * bufsize: the option parser table with the size each snippet sets; the
 * size our OPT advertises and the UDP reply limit it sets, seen by kdig.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runClient } from '../../../test/support/harness.ts';
import { buildGeneration, setupError, startTestServer } from '../../../test/server/helpers/server.ts';

const valid: [corefile: string, size: number][] = [
  ['. {\n whoami\n}', 1232],
  ['. {\n bufsize\n}', 1232],
  ['. {\n bufsize 512\n}', 512],
  ['. {\n bufsize 1400\n}', 1400],
  ['. {\n bufsize 4096\n}', 4096],
];
for (const [corefile, size] of valid) {
  test(`size: ${JSON.stringify(corefile)} -> ${size}`, () => {
    assert.equal(buildGeneration(corefile).blocks[0]!.maxUdpSize, size);
  });
}

const invalid: [corefile: string, error: string][] = [
  ['. {\n bufsize 511\n}', 'Corefile:2: plugin/bufsize: size 511 is out of range 512..4096'],
  ['. {\n bufsize 4097\n}', 'Corefile:2: plugin/bufsize: size 4097 is out of range 512..4096'],
  ['. {\n bufsize -1\n}', 'Corefile:2: plugin/bufsize: size -1 is out of range 512..4096'],
  ['. {\n bufsize 1.5k\n}', "Corefile:2: plugin/bufsize: size '1.5k' is not a whole number"],
  ['. {\n bufsize 512 1024\n}', "Corefile:2: plugin/bufsize: 'bufsize' takes 0 to 1 arguments, got 2"],
  ['. {\n bufsize {\n  size 512\n }\n}', "Corefile:2: plugin/bufsize: 'bufsize' takes no block"],
  ['. {\n bufsize 512\n bufsize 1024\n}', 'Corefile:3: plugin/bufsize: this plugin can only be used once per server block'],
];
for (const [corefile, error] of invalid) {
  test(`options: ${JSON.stringify(corefile)} -> ${error}`, () => {
    assert.equal(setupError(corefile), error);
  });
}

interface Kdig { TC: number; ANCOUNT: number; msgLength: number; additionalRRs?: { TYPEname: string; CLASS: number }[] }

test('each block advertises and honours its own size (kdig, EDNS 4096 offered)', async () => {
  const s = await startTestServer('small.test:0 {\n bind 127.0.0.1\n bufsize 600\n many_a 100\n}\nbig.test:0 {\n bind 127.0.0.1\n bufsize 4096\n many_a 100\n}\n');
  try {
    const small = JSON.parse(await runClient('kdig', s.port, ['+json', '+ignore', '+bufsize=4096', 'x.small.test'])) as Kdig;
    assert.equal(small.TC, 1);
    assert.ok(small.msgLength <= 600, `${small.msgLength} <= 600`);
    assert.equal(small.additionalRRs?.find((r) => r.TYPEname === 'OPT')?.CLASS, 600);
    const big = JSON.parse(await runClient('kdig', s.port, ['+json', '+ignore', '+bufsize=4096', 'x.big.test'])) as Kdig;
    assert.equal(big.TC, 0);
    assert.equal(big.ANCOUNT, 100);
    assert.equal(big.additionalRRs?.find((r) => r.TYPEname === 'OPT')?.CLASS, 4096);
  } finally {
    await s.stop();
  }
});

/**
 * @module dnsrecord/manifest-files.test
 * The DNSRecord reader's last good state per file (the rule it shares with
 * the kubernetes reader, readFilesKeepingLastGood): a file that stops
 * parsing keeps the records it gave, with one FILE:LINE error; a record
 * that fails validation keeps its previous version; a deleted file takes its
 * records away; on a first read the documents that parse are used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listManifestFiles } from '../cluster/manifests/read-manifests.ts';
import { readDnsRecordManifests } from './manifest-files.ts';

const rec = (name: string, host: string, path = '/a/'): string =>
  `apiVersion: clusterdns.io/v1alpha1\nkind: DNSRecord\nmetadata: {name: ${name}, namespace: web}\nspec:\n  host: ${host}\n  paths:\n  - {path: "${path}", service: svc, port: 80}\n`;

/** Writes and moves the mtime forward, so a rewrite within one clock tick is still seen as a change. */
let tick = 1_000_000;
function put(file: string, text: string): void {
  writeFileSync(file, text);
  tick += 10;
  utimesSync(file, tick, tick);
}

test('garbage keeps a file\'s records, an invalid record keeps its previous version, deleting the file removes them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsrecord-lastgood-'));
  try {
    const one = join(dir, 'one.yaml');
    const two = join(dir, 'two.yaml');
    put(one, rec('a', 'a.example.com') + '---\n' + rec('b', 'b.example.com'));
    put(two, rec('c', 'c.example.com'));
    const read = async (prev: ReadonlyMap<string, unknown>) => readDnsRecordManifests(await listManifestFiles([dir]), ['DNSRecord'], prev);
    const hosts = (r: { records: readonly { host: string; paths: readonly { path: string }[] }[] }): string[] =>
      r.records.map((x) => `${x.host}${x.paths[0]!.path}`).sort();

    const first = await read(new Map());
    assert.deepEqual(hosts(first), ['a.example.com./a/', 'b.example.com./a/', 'c.example.com./a/']);
    assert.deepEqual(first.errors, []);

    put(one, rec('a', 'a.example.com', '/new/') + '---\nkind: DNSRecord\nmetadata: {name: b\n  : [[[\n');
    const garbage = await read(first.files);
    assert.deepEqual(hosts(garbage), hosts(first), 'a file that does not parse changes nothing');
    assert.equal(garbage.errors?.length, 1);
    assert.match(garbage.errors![0]!.message, new RegExp(`^${one}:\\d+: .*; keeping the 2 objects read from it before$`));

    put(one, '');
    const empty = await read(garbage.files);
    assert.deepEqual(hosts(empty), hosts(first), 'an emptied file is a save in progress, not a delete');
    assert.match(empty.errors![0]!.message, /one\.yaml:1: file is empty; keeping the 2 objects/);

    put(one, rec('a', 'a.example.com', 'no-slash') + '---\n' + rec('b', 'b.example.com', '/b2/'));
    const invalid = await read(empty.files);
    assert.deepEqual(hosts(invalid), ['a.example.com./a/', 'b.example.com./b2/', 'c.example.com./a/'], 'the invalid record keeps its previous version, the valid edit is taken');
    assert.deepEqual(invalid.errors, []);
    assert.ok(invalid.warnings.some((w) => w.startsWith(`${one}:1: DNSRecord web/a: paths[0]: path "no-slash" must start with /`) && w.endsWith('; keeping its previous version')), invalid.warnings.join('\n'));

    unlinkSync(two);
    const deleted = await read(invalid.files);
    assert.deepEqual(hosts(deleted), ['a.example.com./a/', 'b.example.com./b2/'], 'a deleted file takes its records away');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('first read of a broken file: the documents that parse are used, the error names FILE:LINE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnsrecord-lastgood-'));
  try {
    put(join(dir, 'x.yaml'), rec('a', 'a.example.com') + '---\nkind: DNSRecord\nmetadata: {name: b\n  : [[[\n');
    const r = await readDnsRecordManifests(await listManifestFiles([dir]));
    assert.deepEqual(r.records.map((x) => x.name), ['a']);
    assert.match(r.errors![0]!.message, /x\.yaml:\d+: .*; using the 1 objects of the documents that parse$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

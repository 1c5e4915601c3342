/**
 * @module cluster/api/kubeconfig.test
 * A kubeconfig's credentials come from the helper process (the real library,
 * real exec plugins): the server URL and configuration errors at once, a
 * plugin token asked for once and again only after TOKEN_REREAD_MS (an
 * injected clock), concurrent requests sharing one run, a failed refresh
 * keeping the last token, a failed first run failing the request with the
 * plugin's message, and proxy-url falling back to the library in process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import { makeTempDir, removeDir, writeKubeconfig } from '../../../test/support/kubeconfig.ts';
import { resolveConnection, TOKEN_REREAD_MS } from './connection.ts';
import { kubeconfigServer } from './kubeconfig.ts';

const SERVER = 'https://127.0.0.1:6443';

/** A kubeconfig whose user gets its token from an exec plugin: a shell script that counts its runs and fails while `fail` exists. */
async function execKubeconfig(dir: string, proxyUrl?: string): Promise<{ file: string; runs: () => number; failing: (on: boolean) => void }> {
  const counter = path.join(dir, 'runs');
  const fail = path.join(dir, 'fail');
  writeFileSync(counter, '0');
  const script = path.join(dir, 'plugin.sh');
  writeFileSync(script, [
    '#!/bin/sh',
    `n=$(( $(cat ${counter}) + 1 )); echo $n > ${counter}`,
    `if [ -e ${fail} ]; then echo "plugin: no credentials today" >&2; exit 1; fi`,
    'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s"}}\' "$n"',
    '',
  ].join('\n'), { mode: 0o755 });
  const file = await writeKubeconfig(dir, { server: SERVER, insecureSkipTLSVerify: true, execCommand: script, ...(proxyUrl !== undefined ? { proxyUrl } : {}) });
  return {
    file,
    runs: () => Number(readFileSync(counter, 'utf8')),
    failing: (on) => { if (on) writeFileSync(fail, ''); else rmSync(fail, { force: true }); },
  };
}

async function authorization(apply: (o: https.RequestOptions) => Promise<void>): Promise<unknown> {
  const o: https.RequestOptions = {};
  await apply(o);
  return (o.headers as Record<string, unknown> | undefined)?.Authorization;
}

test('an exec plugin token: fetched once, shared by concurrent requests, asked for again after the re-read period', async () => {
  const dir = await makeTempDir();
  try {
    const kc = await execKubeconfig(dir);
    let now = 1_000_000;
    const conn = resolveConnection({ kubeconfig: kc.file }, () => now);
    assert.equal(conn.server, SERVER);
    assert.equal(conn.mode, 'kubeconfig');
    assert.equal(kc.runs(), 0, 'nothing runs before the first request');
    const first = await Promise.all([authorization(conn.apply), authorization(conn.apply), authorization(conn.apply)]);
    assert.deepEqual(first, ['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
    assert.equal(kc.runs(), 1, 'three requests at once, one plugin run');
    now += TOKEN_REREAD_MS - 1;
    assert.equal(await authorization(conn.apply), 'Bearer tok-1');
    assert.equal(kc.runs(), 1);
    now += 1;
    assert.equal(await authorization(conn.apply), 'Bearer tok-2', 'asked again once the period passed');
    assert.equal(kc.runs(), 2);

    // A failed refresh keeps the token it had; the next try is a period later.
    kc.failing(true);
    now += TOKEN_REREAD_MS;
    assert.equal(await authorization(conn.apply), 'Bearer tok-2');
    assert.equal(kc.runs(), 3);
    assert.equal(await authorization(conn.apply), 'Bearer tok-2');
    assert.equal(kc.runs(), 3, 'not retried at every request');
  } finally {
    await removeDir(dir);
  }
});

test('a plugin that fails before any token fails the request with its message', async () => {
  const dir = await makeTempDir();
  try {
    const kc = await execKubeconfig(dir);
    kc.failing(true);
    const conn = resolveConnection({ kubeconfig: kc.file });
    await assert.rejects(conn.apply({}), { message: `kubeconfig ${kc.file}: credentials: plugin: no credentials today` });
  } finally {
    await removeDir(dir);
  }
});

test('configuration errors are thrown at once: unknown context, no cluster, unreadable file', async () => {
  const dir = await makeTempDir();
  try {
    const kc = await execKubeconfig(dir);
    assert.throws(() => resolveConnection({ kubeconfig: kc.file, context: 'nope' }), /context "nope" not found/);
    const bare = path.join(dir, 'bare');
    writeFileSync(bare, 'apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: []\n');
    assert.throws(() => kubeconfigServer(bare, undefined), /no cluster for the current context/);
    assert.throws(() => resolveConnection({ kubeconfig: path.join(dir, 'missing') }), /ENOENT/);
  } finally {
    await removeDir(dir);
  }
});

test('proxy-url: the library runs in process, with its proxy agent', async () => {
  const dir = await makeTempDir();
  try {
    const kc = await execKubeconfig(dir, 'http://127.0.0.1:3128');
    const conn = resolveConnection({ kubeconfig: kc.file });
    const o: https.RequestOptions = {};
    await conn.apply(o);
    assert.equal(o.agent?.constructor.name, 'HttpsProxyAgent');
    assert.equal((o.headers as Record<string, unknown>).Authorization, 'Bearer tok-2', 'the helper ran once (and saw the proxy), then the library');
  } finally {
    await removeDir(dir);
  }
});

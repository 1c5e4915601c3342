/**
 * @module app/reload-watcher.test
 * One parse per reload: what the watcher's check loaded is what the swap
 * gets; an unchanged Corefile is not swapped; a process that does not read
 * the Corefile (a pool worker) never reloads by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedCorefile } from '../corefile/load.ts';
import { memoryLogger } from '../log/logger.ts';
import { ProcessServices, type ServerControl } from '../plugin/process-services.ts';
import { ReloadWatcher } from './reload-watcher.ts';

function fakeControl(hashes: (string | null)[]): ServerControl & { loads: number; swapped: (LoadedCorefile | undefined)[] } {
  let running = 'h0';
  const c = {
    loads: 0,
    swapped: [] as (LoadedCorefile | undefined)[],
    get configHash() { return running; },
    load(): LoadedCorefile | null {
      const h = hashes[c.loads++] ?? null;
      return h === null ? null : { blocks: [], hash: h };
    },
    async reload(_force?: boolean, loaded?: LoadedCorefile): Promise<boolean> {
      c.swapped.push(loaded);
      if (loaded) running = loaded.hash;
      return true;
    },
    panics: 0,
  };
  return c;
}

test('a changed Corefile is parsed once and that parse is what gets swapped in', async () => {
  const services = new ProcessServices({ logger: memoryLogger() });
  const control = fakeControl(['h0', 'h1']);
  services.control = control;
  const watcher = new ReloadWatcher(services);
  assert.equal(await watcher.check(), 'unchanged');
  assert.equal(control.loads, 1);
  assert.equal(control.swapped.length, 0, 'same hash: no swap');
  assert.equal(await watcher.check(), 'reloaded');
  assert.equal(control.loads, 2, 'one load per check, none inside the swap');
  assert.equal(control.swapped[0]?.hash, 'h1', 'the swap gets the parse the check made');
});

test('SIGUSR1 loads once and forces the swap; a worker (load gives null) only reloads when told', async () => {
  const services = new ProcessServices({ logger: memoryLogger() });
  const control = fakeControl(['h0', null, null]);
  services.control = control;
  const watcher = new ReloadWatcher(services);
  assert.equal(await watcher.reloadNow('SIGUSR1'), 'reloaded');
  assert.equal(control.loads, 1);
  assert.equal(control.swapped[0]?.hash, 'h0', 'forced even when unchanged');
  assert.equal(await watcher.check(), 'unchanged', 'a worker does not poll its own Corefile');
  assert.equal(control.swapped.length, 1);
  assert.equal(await watcher.reloadNow('SIGUSR1'), 'reloaded');
  assert.equal(control.swapped[1], undefined, 'the worker parses inside its own reload');
});

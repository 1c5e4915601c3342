/**
 * @module plugins/index.test
 * Every built-in plugin's lazy entry points at a module that exports a
 * definition with the directive's name, and names() lists them all without
 * loading any (a typo in a module path would otherwise surface only when a
 * Corefile first uses the plugin).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLUGIN_ORDER } from '../plugin/order.ts';
import { BUILTIN_PLUGINS, builtinRegistry } from './index.ts';

test('each built-in plugin loads by its name, and names() lists them in chain order', () => {
  const registry = builtinRegistry();
  const names = registry.names();
  assert.equal(names.length, BUILTIN_PLUGINS.length);
  assert.deepEqual(names, [...names].sort((a, b) => PLUGIN_ORDER.indexOf(a) - PLUGIN_ORDER.indexOf(b)));
  for (const name of names) {
    const def = registry.get(name);
    assert.equal(def?.name, name, `${name}: its module's definition`);
    assert.equal(typeof def.setup, 'function');
    assert.equal(registry.get(name), def, `${name}: loaded once, the same definition after`);
  }
  assert.equal(registry.get('nonexistent'), undefined);
});

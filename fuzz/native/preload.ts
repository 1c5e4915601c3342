/**
 * @module fuzz/native/preload
 * Imported before @jazzer.js/core (`node --import ./fuzz/native/preload.ts`,
 * as fuzz/run.ts does): loads the glibc compat shim when setup.ts built one,
 * so the addon's shimmed symbols resolve, and registers strip-types-hooks.ts
 * so jazzer's ES-module instrumentation sees our TypeScript as JavaScript.
 */
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { constants } from 'node:os';
import { COMPAT_PATH } from './setup.ts';

if (existsSync(COMPAT_PATH)) process.dlopen({ exports: {} }, COMPAT_PATH, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
register(new URL('./strip-types-hooks.ts', import.meta.url));

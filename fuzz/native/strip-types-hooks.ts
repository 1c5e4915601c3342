/**
 * @module fuzz/native/strip-types-hooks
 * A module load hook that hands TypeScript on as JavaScript with the types
 * stripped (positions kept, so stack traces stay right). Jazzer's ESM
 * instrumentation only instruments format "module"; Node gives .ts files
 * the format "module-typescript" and strips them after the hooks, so without
 * this none of our code would be instrumented and the fuzzer would be blind.
 * Jazzer also appends ".js" to a target file name without one: the resolve
 * hook maps "x.ts.js" back to "x.ts".
 */
import { stripTypeScriptTypes, type LoadHook, type ResolveHook } from 'node:module';

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  if (specifier.endsWith('.ts.js')) return nextResolve(specifier.slice(0, -3), context);
  return nextResolve(specifier, context);
};

export const load: LoadHook = async (url, context, nextLoad) => {
  const result = await nextLoad(url, context);
  if (result.format !== 'module-typescript' || result.source === undefined) return result;
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
  return { ...result, format: 'module', source: stripTypeScriptTypes(source) };
};

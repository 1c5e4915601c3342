/**
 * @module corefile/import-files
 * Resolves the argument of `import` to files: a plain path (relative to the
 * importing file's directory) or a glob whose wildcards (`*`, `?`, `[...]`)
 * are in the last path segment only. Matches are regular files (symlinks are
 * followed), sorted by name; wildcards skip dotfiles unless the pattern
 * itself starts with a dot, so Kubernetes ConfigMap mounts (`..data`,
 * `..2024_01_01...`) are not picked up by `*`.
 */

import fs from 'node:fs';
import path from 'node:path';

export interface ImportTarget {
  /** Paths to read, in import order. */
  readonly files: string[];
  /** True when the pattern had wildcards (then zero matches is not an error). */
  readonly wildcard: boolean;
}

const WILDCARD = /[*?[]/;

function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) throw new Error(`unclosed '[' in import pattern '${pattern}'`);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Expands an import pattern relative to `baseDir`. Throws a plain Error for unusable patterns. */
export function resolveImport(pattern: string, baseDir: string): ImportTarget {
  const joined = path.isAbsolute(pattern) ? pattern : path.join(baseDir, pattern);
  const dir = path.dirname(joined);
  const base = path.basename(joined);
  if (!WILDCARD.test(base)) {
    if (WILDCARD.test(dir)) throw new Error(`wildcards are only supported in the last path segment: '${pattern}'`);
    return { files: [joined], wildcard: false };
  }
  if (WILDCARD.test(dir)) throw new Error(`wildcards are only supported in the last path segment: '${pattern}'`);
  const re = globToRegExp(base);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    names = [];
  }
  const files = names
    .filter((n) => re.test(n) && (base.startsWith('.') || !n.startsWith('.')))
    .sort()
    .map((n) => path.join(dir, n))
    .filter(isFile);
  return { files, wildcard: true };
}

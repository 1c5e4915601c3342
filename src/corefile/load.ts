/**
 * @module corefile/load
 * Reading a Corefile for the server: the file's text (or text given
 * instead), parsed once (imports expanded), and the SHA-512 of the parsed
 * result that reload compares. One parse per start and per reload: the
 * reload watcher hands what it loaded to the swap.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../errors/to-error.ts';
import { parseCorefile, type ServerBlock } from './parser.ts';

export interface LoadedCorefile {
  readonly blocks: readonly ServerBlock[];
  /** SHA-512 of the parsed Corefile (imports expanded, positions left out): what `reload` compares. */
  readonly hash: string;
}

/** Read (unless `text` is given) and parse the Corefile at `path`. Throws CorefileError, or an Error naming the path. */
export function loadCorefile(path: string, text: string | undefined, env?: Readonly<Record<string, string | undefined>>): LoadedCorefile {
  let source = text;
  if (source === undefined) {
    try {
      source = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EISDIR' ? 'is a directory, not a file' : code === 'ENOENT' ? 'does not exist' : errorMessage(e);
      throw new Error(`Corefile ${path}: ${why}`);
    }
  }
  const blocks = parseCorefile(source, path, env === undefined ? {} : { env });
  const hash = createHash('sha512').update(JSON.stringify(blocks, (k, v: unknown) => (k === 'file' || k === 'line' ? undefined : v))).digest('hex');
  return { blocks, hash };
}

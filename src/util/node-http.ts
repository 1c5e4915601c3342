/**
 * @module util/node-http
 * node:http and node:https for the server, loaded as CommonJS builtins.
 *
 * Why: an ESM `import … from 'node:http'` builds the module namespace by
 * reading every export, and node:http's lazy WebSocket / CloseEvent /
 * MessageEvent exports then load undici, which loads node:tls, node:http2
 * and node:zlib: 13 MiB of RSS at start for nothing the server uses
 * (`node --input-type=module -e "await import('node:http')"`: 59 MiB, with
 * `process.getBuiltinModule('node:http')`: 46 MiB; Node 24). node:https
 * (~4 MiB: tls and most of crypto's JS) loads on the first https request.
 * Import the types with `import type` (erased); values from here.
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';

export const http: typeof Http = process.getBuiltinModule('node:http');

/** node:https, loaded on first use. */
export function https(): typeof Https {
  return process.getBuiltinModule('node:https');
}

#!/usr/bin/env node
// The clusterdns command. Needs Node.js 24 (TypeScript type stripping, UDP reusePort).
// Installed as a package, the compiled dist/ is used; in a checkout, src/ runs directly.
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`clusterdns needs Node.js 24 or newer (this is v${process.versions.node}).\n` +
    `In a checkout, run it through npm after 'npm ci' (npx clusterdns ..., npm start), which uses the node@24 dev dependency.\n`);
  process.exit(1);
}
const root = dirname(dirname(realpathSync(fileURLToPath(import.meta.url))));
const dist = join(root, 'dist', 'main.js');
const entry = existsSync(dist) ? dist : join(root, 'src', 'main.ts');
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv.slice(2), true);
if (code >= 0) process.exit(code);

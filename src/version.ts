/**
 * @module version
 * The version reported by -version, chaos and coredns_build_info.
 */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;
/** The CoreDNS release whose behaviour we reproduce, for tools that parse the version banner. */
export const COREDNS_COMPAT_VERSION = '1.14.0';

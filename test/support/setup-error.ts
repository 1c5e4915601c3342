/**
 * @module test/support/setup-error
 * Option-parser tests: set a Corefile up with every built-in plugin (parse and
 * build, nothing started) and return the error message, or '' when it is valid.
 */
import { buildConfig } from '../../src/config/build.ts';
import { parseCorefile } from '../../src/corefile/parser.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { ProcessServices } from '../../src/plugin/process-services.ts';
import { builtinRegistry } from '../../src/plugins/index.ts';

export function setupError(corefile: string): string {
  try {
    buildConfig(parseCorefile(corefile, 'Corefile', { env: {} }), {
      registry: builtinRegistry(), services: new ProcessServices({ logger: memoryLogger() }), dnsPort: 53, configPath: '/etc/coredns/Corefile',
    });
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

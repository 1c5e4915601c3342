/**
 * @module server/workers/flags.test
 * The -workers flag and CLUSTERDNS_WORKERS: default 1, a number, `auto`,
 * the flag over the environment, and the errors for anything else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServeArgs, UsageError } from '../../cli/args.ts';

test('-workers: default 1; N, auto, -workers=N; CLUSTERDNS_WORKERS when the flag is absent', () => {
  const cases: [string[], Record<string, string>, number | 'auto'][] = [
    [[], {}, 1],
    [['-workers', '4'], {}, 4],
    [['--workers=2'], {}, 2],
    [['-workers', 'auto'], {}, 'auto'],
    [[], { CLUSTERDNS_WORKERS: '3' }, 3],
    [[], { CLUSTERDNS_WORKERS: 'auto' }, 'auto'],
    [[], { CLUSTERDNS_WORKERS: '' }, 1],
    [['-workers', '1'], { CLUSTERDNS_WORKERS: '8' }, 1],
    [['-workers', '256'], {}, 256],
  ];
  for (const [argv, env, want] of cases) assert.equal(parseServeArgs(argv, env).workers, want, `${argv.join(' ')} ${JSON.stringify(env)}`);
});

test('-workers and CLUSTERDNS_WORKERS reject what is not 1..256 or auto', () => {
  const cases: [string[], Record<string, string>, string][] = [
    [['-workers', '0'], {}, 'invalid value "0" for flag -workers: a number of workers from 1 to 256, or auto'],
    [['-workers', '257'], {}, 'invalid value "257" for flag -workers: a number of workers from 1 to 256, or auto'],
    [['-workers', '2.5'], {}, 'invalid value "2.5" for flag -workers: a number of workers from 1 to 256, or auto'],
    [['-workers', 'AUTO'], {}, 'invalid value "AUTO" for flag -workers: a number of workers from 1 to 256, or auto'],
    [['-workers'], {}, 'flag needs an argument: -workers'],
    [[], { CLUSTERDNS_WORKERS: 'many' }, 'invalid value "many" for CLUSTERDNS_WORKERS: a number of workers from 1 to 256, or auto'],
  ];
  for (const [argv, env, message] of cases) {
    assert.throws(() => parseServeArgs(argv, env), (e: unknown) => e instanceof UsageError && e.message === message, `${argv.join(' ')} ${JSON.stringify(env)}`);
  }
});

/**
 * @module bench/memory-section
 * Extra report section: bench/memory.ts at 100,000 services (3 endpoints
 * each, one pod per service) in a child process with --expose-gc: heap
 * bytes per Service, per endpoint and per pod-IP entry of the store and DNS
 * index, the answer cache's cost, update times and a relist, as it prints
 * them.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { nodeBinary } from './peers/clusterdns.ts';
import type { ExtraSection } from './types.ts';

export const memorySection: ExtraSection = {
  title: 'Memory per record at 100,000 services (bench/memory.ts)',
  quick: false,
  run: () => new Promise((resolve, reject) => {
    const args = ['--expose-gc', path.join(import.meta.dirname, 'memory.ts'), '--services', '100000', '--endpoints-per-service', '3'];
    execFile(nodeBinary(), args, { timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`${err.message}\n${stderr}`)); return; }
      resolve([`\`node --expose-gc bench/memory.ts --services 100000 --endpoints-per-service 3\`:`, '', '```', stdout.trim(), '```'].join('\n'));
    });
  }),
};

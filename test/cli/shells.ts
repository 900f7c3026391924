// Runs bin/tsvirt and the real virsh with the same arguments, for side-by-side comparisons.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hasCommand, projectRoot } from '../helpers/system.js';

export interface ShellRun {
  stdout: string;
  stderr: string;
  status: number | null;
}

export const fixtures = join(projectRoot, 'test/cli/fixtures');
export const tsvirtBin = join(projectRoot, 'bin/tsvirt');
export const haveVirsh = hasCommand('virsh');

/** Values that differ between any two runs (wall-clock CPU time of the test driver). */
export function normalize(s: string): string {
  return s.replace(/^(CPU time:\s+)\d+\.\ds$/gm, '$1<time>').replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: /gm, '<stamp>: ');
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }): ShellRun {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? fixtures,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', ...opts.env },
    timeout: 30_000,
  });
  return { stdout: normalize(r.stdout), stderr: normalize(r.stderr), status: r.status };
}

export function tsvirt(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): ShellRun {
  return run(process.execPath, [tsvirtBin, ...args], opts);
}

export function virsh(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): ShellRun {
  return run('virsh', args, opts);
}

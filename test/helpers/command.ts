// Commands run from tests without blocking the event loop: the server a client command talks to
// may live in the test process itself.
import { spawn } from 'node:child_process';

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Default: this process's environment in the C locale, so messages compare as text. */
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Milliseconds before the command is killed (default 60 s): a hang guard, not a speed check. */
  timeout?: number;
  uid?: number;
  gid?: number;
}

/** Runs a command to completion without blocking the event loop. */
export function run(cmd: string, argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { env: opts.env ?? { ...process.env, LANG: 'C', LC_ALL: 'C' }, uid: opts.uid, gid: opts.gid });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) c.stdin.end(opts.input);
    else c.stdin.end();
    const t = setTimeout(() => c.kill('SIGKILL'), opts.timeout ?? 60000);
    c.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

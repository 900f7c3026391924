// The network driver's external programs (nft, dnsmasq) are run through one small runner handed
// in at construction, as tc is for the bandwidth code: production spawns them, a test wraps the
// runner to record every argv (and still runs the real program).
import { spawn } from 'node:child_process';
import { ErrorDomain, ErrorNumber, VirtError, errnoOf, systemError, virtError } from '../../errors/index.js';

export interface CommandResult {
  /** Exit status, or null when the process was killed by a signal. */
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Written to the program's standard input, which is then closed. */
  input?: string;
}

/** Starts a program and waits for it. Rejects only when it could not be started at all. */
export interface CommandRunner {
  run(binary: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult>;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/**
 * The real runner: no shell, LC_ALL=C so messages are not translated. Spawned from the calling
 * (main) thread, so the program runs in that thread's network namespace.
 */
export function spawnCommandRunner(): CommandRunner {
  return {
    run(binary, args, options = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(binary, args as string[], {
          env: { ...process.env, LC_ALL: 'C' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          if (stdout.length < MAX_OUTPUT) stdout += d;
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          if (stderr.length < MAX_OUTPUT) stderr += d;
        });
        child.once('error', reject);
        // A daemonizing program (dnsmasq) leaves its grandchild holding our pipes; 'exit' does not
        // wait for them to close, 'close' would.
        child.once('exit', (code, signal) => {
          // Give the pipes a moment to deliver what the program itself wrote.
          setImmediate(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            resolve({ status: code, signal, stdout, stderr });
          });
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(options.input ?? '');
      });
    },
  };
}

/** Shell-quotes one word the way libvirt prints a command line in its errors. */
function quoteWord(word: string): string {
  return /^[A-Za-z0-9_.:/,=+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(binary: string, args: readonly string[]): string {
  return [binary, ...args].map(quoteWord).join(' ');
}

/**
 * Runs a program; a non-zero exit is libvirt's INTERNAL_ERROR "Child process (…) unexpected exit
 * status N: <stderr>" unless allowFailure is set. Failing to start it is a system error.
 */
export async function runCommand(
  runner: CommandRunner,
  binary: string,
  args: readonly string[],
  options: CommandOptions & { allowFailure?: boolean } = {},
): Promise<CommandResult> {
  let res: CommandResult;
  try {
    res = await runner.run(binary, args, { input: options.input });
  } catch (err) {
    if (err instanceof VirtError) throw err;
    const what = binary.includes('/') ? `Cannot run '${binary}'` : `Cannot find '${binary}' in path`;
    throw systemError(ErrorDomain.NONE, errnoOf(err) ?? 2, what, { object: binary }, { cause: err });
  }
  if (res.status !== 0 && !options.allowFailure) throw commandFailure(binary, args, res);
  return res;
}

export function commandFailure(binary: string, args: readonly string[], res: CommandResult): VirtError {
  const how = res.status === null ? `fatal signal ${res.signal ?? '?'}` : `exit status ${res.status}`;
  const err = res.stderr.trim();
  return virtError(
    ErrorNumber.INTERNAL_ERROR,
    ErrorDomain.NONE,
    `Child process (${commandLine(binary, args)}) unexpected ${how}${err ? `: ${err}` : ''}`,
    { object: binary },
  );
}

// Runs the `tc` binary. libvirt shapes traffic by spawning tc with fixed argv lists (spec
// network-devices §3), and tsvirt does the same so the kernel ends up in exactly the state
// libvirt's commands produce. The process is started through a small runner handed in at
// construction (DESIGN.md "Host access"): production uses spawnTcRunner(), a test wraps it to
// record every argv while still running it against the real kernel.
import { execFile } from 'node:child_process';
import { ErrorDomain, ErrorNumber, VirtError, errnoOf, systemError, virtError } from '../errors/index.js';

/** What one run of a command gave back. */
export interface TcResult {
  /** Exit status, or null when the process was killed by a signal. */
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Starts a process and waits for it. Rejects only when the process could not be started. */
export interface TcRunner {
  run(binary: string, args: readonly string[]): Promise<TcResult>;
}

/** A warning that does not fail the operation (libvirt's VIR_WARN). */
export type WarnFn = (message: string) => void;

const defaultWarn: WarnFn = (message) => process.emitWarning(message, 'TsvirtWarning');

/**
 * The real runner: execFile without a shell, LC_ALL=C so tc's own messages are not translated
 * (tsvirt recognises a few kernel refusals by their text, see bandwidth.ts).
 */
export function spawnTcRunner(): TcRunner {
  return {
    run(binary, args) {
      return new Promise((resolve, reject) => {
        execFile(
          binary,
          args as string[],
          { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
          (err, stdout, stderr) => {
            if (err && typeof (err as { code?: unknown }).code === 'string') {
              // ENOENT, EACCES, …: the binary did not start at all.
              reject(err);
              return;
            }
            const e = err as (Error & { code?: number | null; signal?: string | null }) | null;
            resolve({
              status: e ? (typeof e.code === 'number' ? e.code : null) : 0,
              signal: e?.signal ?? null,
              stdout,
              stderr,
            });
          },
        );
      });
    },
  };
}

export interface TcOptions {
  /** The tc binary: a name looked up on PATH or an absolute path. Default 'tc'. */
  binary?: string;
  runner?: TcRunner;
  /** Where non-fatal problems go. Default: process.emitWarning. */
  warn?: WarnFn;
}

/** Shell-quotes one word the way libvirt prints a command line in its errors. */
function quoteWord(word: string): string {
  return /^[A-Za-z0-9_.:/,=+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** One tc binary, one runner: every tc invocation in tsvirt goes through here. */
export class Tc {
  readonly binary: string;
  readonly runner: TcRunner;
  readonly warn: WarnFn;

  constructor(options: TcOptions = {}) {
    this.binary = options.binary ?? 'tc';
    this.runner = options.runner ?? spawnTcRunner();
    this.warn = options.warn ?? defaultWarn;
  }

  /** "tc qdisc add dev eth0 …" as it appears in error messages. */
  commandLine(args: readonly string[]): string {
    return [this.binary, ...args].map(quoteWord).join(' ');
  }

  /**
   * Runs `tc args`. A non-zero exit is an error (libvirt's wording: INTERNAL_ERROR "Child
   * process (…) unexpected exit status N: <stderr>") unless allowFailure is set, in which case
   * the result is returned for the caller to look at. Failing to start tc is always an error.
   */
  async run(args: readonly string[], options: { allowFailure?: boolean } = {}): Promise<TcResult> {
    let res: TcResult;
    try {
      res = await this.runner.run(this.binary, args);
    } catch (err) {
      if (err instanceof VirtError) throw err;
      const errnum = errnoOf(err) ?? 0;
      const what = this.binary.includes('/') ? `Cannot run '${this.binary}'` : `Cannot find '${this.binary}' in path`;
      throw systemError(ErrorDomain.NONE, errnum, what, { object: this.binary }, { cause: err });
    }
    if (res.status !== 0 && !options.allowFailure) throw this.failure(args, res);
    return res;
  }

  /** The error libvirt reports for a command that ran but failed. */
  failure(args: readonly string[], res: TcResult): VirtError {
    const how = res.status === null ? `fatal signal ${res.signal ?? '?'}` : `exit status ${res.status}`;
    const err = res.stderr.trim();
    return virtError(
      ErrorNumber.INTERNAL_ERROR,
      ErrorDomain.NONE,
      `Child process (${this.commandLine(args)}) unexpected ${how}${err ? `: ${err}` : ''}`,
      { object: this.binary },
    );
  }
}

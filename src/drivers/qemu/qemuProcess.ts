// QEMU processes: spawned as our child (not daemonized, its own session, stdout and stderr in
// its log file after a header, extra descriptors at chosen numbers), or found again after a
// daemon restart by pid + start time. Exit is seen without polling: the child's exit event,
// or, for a QEMU that is not our child, a pidfd that the caller checks when QEMU's monitor
// socket reaches end of file.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, openSync, readFileSync, promises as fs, writeSync } from 'node:fs';
import { constants as osConstants, hostname } from 'node:os';
import { ErrorDomain, ErrorNumber, VirtError, fromSystemError, systemError, virtError } from '../../errors/index.js';
import { isReadable, pidfdOpen, pidfdSendSignal, waitReadable } from '../../host/syscalls.js';

/** What identifies one running process across daemon restarts (pids get reused; the pair does not). */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot at which the process started. */
  startTime: number;
}

/** How a QEMU ended. For a QEMU that was not our child the exit status is unknown (null, null). */
export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface QemuSpawnOptions {
  binary: string;
  args: readonly string[];
  /** QEMU's stdout and stderr, appended after a header (libvirt's /var/log/libvirt/qemu/NAME.log). */
  logFile: string;
  /** Descriptors QEMU inherits: QEMU's fd number → our descriptor (e.g. 3 → a tap). Numbers ≥ 3. */
  fds?: ReadonlyMap<number, number>;
  /** Added to QEMU's environment, which is otherwise only LC_ALL=C and PATH (as libvirt). */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

export interface QemuKillOptions {
  /** How long QEMU gets to exit after SIGTERM. Default 10 s (libvirt's). */
  graceMs?: number;
  /** Only SIGTERM: fail with EBUSY rather than SIGKILL when QEMU outlives the grace period
   * (VIR_DOMAIN_DESTROY_GRACEFUL). */
  graceful?: boolean;
}

interface QemuProcessEvents {
  exit: [QemuExit];
}

/** How long SIGKILL gets before we call the process unkillable (it is in D state). */
const KILL_WAIT_MS = 5000;

export class QemuProcess extends EventEmitter<QemuProcessEvents> {
  readonly pid: number;
  readonly startTime: number;
  /** True when this process is our child (spawned here), false when found by attach(). */
  readonly isChild: boolean;
  readonly logFile: string | undefined;
  /** Where QEMU's own output starts in the log (after our header); 0 when unknown. */
  readonly logStart: number;
  /** Resolves once the process has exited. */
  readonly exited: Promise<QemuExit>;
  private exitInfo: QemuExit | undefined;
  private resolveExit!: (e: QemuExit) => void;
  private readonly child: ChildProcess | undefined;
  private pidfd: number | undefined;
  private watching = false;
  private watchFastUntil = 0;

  private constructor(init: {
    pid: number;
    startTime: number;
    child?: ChildProcess;
    pidfd?: number;
    logFile?: string;
    logStart?: number;
  }) {
    super();
    this.pid = init.pid;
    this.startTime = init.startTime;
    this.child = init.child;
    this.isChild = init.child !== undefined;
    this.pidfd = init.pidfd;
    this.logFile = init.logFile;
    this.logStart = init.logStart ?? 0;
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /**
   * Starts QEMU. Resolves once it runs (it may still fail moments later: watch `exited` and
   * read `readLog()`); rejects when the binary cannot be executed.
   */
  static async spawn(opts: QemuSpawnOptions): Promise<QemuProcess> {
    const env: Record<string, string> = {
      LC_ALL: 'C',
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...opts.env,
    };
    // libvirt's log header: a time-stamped line, then the environment and the command line,
    // an option and its value per line, ready to paste into a shell.
    const lines = [...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`), shellQuote(opts.binary)];
    for (let i = 0; i < opts.args.length; i++) {
      const word = opts.args[i]!;
      const next = opts.args[i + 1];
      if (word.startsWith('-') && next !== undefined && !next.startsWith('-')) {
        lines.push(`${shellQuote(word)} ${shellQuote(next)}`);
        i++;
      } else {
        lines.push(shellQuote(word));
      }
    }
    const header = `${logTimestamp()}: starting up tsvirt, qemu binary: ${opts.binary}, hostname: ${hostname()}\n${lines.join(' \\\n')}\n`;
    // Synchronous on purpose: three small calls on the start's critical path, where a trip
    // through the thread pool (busy with status-file fsyncs) costs more than the calls.
    let logFd: number;
    let logStart: number;
    try {
      logFd = openSync(opts.logFile, 'a', 0o600);
      writeSync(logFd, header);
      logStart = fstatSync(logFd).size;
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.QEMU, `Unable to open QEMU log file '${opts.logFile}'`, { value: opts.logFile });
    }
    const stdio: (number | 'ignore')[] = ['ignore', logFd, logFd];
    for (const [target, fd] of opts.fds ?? []) {
      if (!Number.isInteger(target) || target < 3) {
        closeSync(logFd);
        throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `descriptor number ${target} for QEMU is not 3 or above`);
      }
      while (stdio.length <= target) stdio.push('ignore');
      stdio[target] = fd;
    }
    try {
      // Its own session: a signal to the daemon's terminal or process group does not reach
      // QEMU, and QEMU outlives a daemon restart.
      const child = spawn(opts.binary, [...opts.args], { stdio, env, cwd: opts.cwd, detached: true });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      const pid = child.pid!;
      // Still readable here: the child cannot have been reaped before this callback returned.
      const startTime = readStartTime(pid) ?? 0;
      const proc = new QemuProcess({ pid, startTime, child, logFile: opts.logFile, logStart });
      child.on('exit', (code, signal) => proc.markExited({ code, signal }));
      return proc;
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.QEMU, `Unable to start QEMU binary ${opts.binary}`, { value: opts.binary });
    } finally {
      closeSync(logFd);
    }
  }

  /**
   * Finds a QEMU again after a restart. Resolves null when nothing runs under that identity
   * any more (gone, a zombie, or the pid now belongs to another process). The returned
   * process is not our child: call noticeHangup() when its monitor socket closes.
   */
  static async attach(identity: ProcessIdentity, opts: { logFile?: string } = {}): Promise<QemuProcess | null> {
    let pidfd: number;
    try {
      pidfd = pidfdOpen(identity.pid);
    } catch (err) {
      if (err instanceof VirtError && err.fault.errno === 3) return null; // ESRCH
      throw err;
    }
    // Checked after opening the pidfd: if the pid was reused before the open, the start time
    // tells; after the open, the pidfd pins this very process.
    const stat = readStat(identity.pid);
    if (!stat || stat.startTime !== identity.startTime || stat.state === 'Z' || isReadable(pidfd)) {
      closeSync(pidfd);
      return null;
    }
    return new QemuProcess({ pid: identity.pid, startTime: identity.startTime, pidfd, logFile: opts.logFile });
  }

  /**
   * A process known to have exited (a reattach that found nothing under the identity), for code
   * that tears a domain down and wants a process to look at.
   */
  static gone(identity: ProcessIdentity, opts: { logFile?: string } = {}): QemuProcess {
    const p = new QemuProcess({ pid: identity.pid, startTime: identity.startTime, logFile: opts.logFile });
    p.markExited({ code: null, signal: null });
    return p;
  }

  get identity(): ProcessIdentity {
    return { pid: this.pid, startTime: this.startTime };
  }

  /** How it exited, or undefined while it runs. */
  get exitStatus(): QemuExit | undefined {
    return this.exitInfo;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** CPU time used so far (utime + stime, clock ticks of 1/100 s), in nanoseconds; 0 once gone. */
  cpuTime(): bigint {
    if (!this.running) return 0n;
    return BigInt(readStat(this.pid)?.cpuTicks ?? 0) * 10_000_000n;
  }

  /**
   * Tells a process that is not our child that its monitor hung up: from now on it watches its
   * pidfd until the process has exited, then emits 'exit'. No effect on a child (its exit event
   * comes anyway) or after exit.
   */
  noticeHangup(): void {
    this.watchExit(2000);
  }

  /**
   * Lets Node exit while this QEMU runs (a daemon stopping and leaving its guests running).
   * Until then a running child keeps the event loop alive, so awaiting `exited` never ends
   * with Node quietly exiting first.
   */
  unref(): void {
    this.child?.unref();
  }

  /** Sends a signal; false when the process has already exited. */
  signal(sig: NodeJS.Signals): boolean {
    if (this.exitInfo) return false;
    if (this.child) {
      try {
        return this.child.kill(sig);
      } catch (err) {
        throw fromSystemError(err, ErrorDomain.QEMU, `Failed to send ${sig} to process ${this.pid}`);
      }
    }
    return pidfdSendSignal(this.pidfd!, osConstants.signals[sig]);
  }

  /**
   * Stops QEMU: SIGTERM, then SIGKILL once the grace period is over (unless graceful). Resolves
   * when it has exited; rejects with SYSTEM_ERROR/EBUSY when it would not die, as libvirt's
   * "Failed to terminate process N with SIGTERM: Device or resource busy".
   */
  async kill(opts: QemuKillOptions = {}): Promise<QemuExit> {
    if (this.exitInfo) return this.exitInfo;
    this.signal('SIGTERM');
    const graceMs = opts.graceMs ?? 10_000;
    this.watchExit(graceMs);
    if (await this.waitExit(graceMs)) return this.exitInfo!;
    if (opts.graceful) throw systemError(ErrorDomain.QEMU, 16, `Failed to terminate process ${this.pid} with SIGTERM`);
    this.signal('SIGKILL');
    this.watchExit(KILL_WAIT_MS);
    if (await this.waitExit(KILL_WAIT_MS)) return this.exitInfo!;
    throw systemError(ErrorDomain.QEMU, 16, `Failed to terminate process ${this.pid} with SIGKILL`);
  }

  /** True once exited, false if still running after timeoutMs. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (this.exitInfo) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.exited.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** QEMU's own output in its log since this start (without our header), at most maxBytes of its end. */
  async readLog(maxBytes = 16 * 1024): Promise<string> {
    if (!this.logFile) return '';
    return readLogTail(this.logFile, this.logStart, maxBytes);
  }

  /** Appends "<timestamp>: <text>" to the log, as libvirt's "shutting down, reason=…" line. */
  async logLine(text: string): Promise<void> {
    if (!this.logFile) return;
    await fs.appendFile(this.logFile, `${logTimestamp()}: ${text}\n`).catch(() => undefined);
  }

  private markExited(info: QemuExit): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    if (this.pidfd !== undefined) {
      closeSync(this.pidfd);
      this.pidfd = undefined;
    }
    this.resolveExit(info);
    this.emit('exit', info);
  }

  // Watches the pidfd of a process that is not our child, for an exit expected soon: for
  // `fastMs` a pool thread waits on it (a quarter second at a time, so the pool is never held
  // long); after that, should the process linger, a check each second without a thread.
  private watchExit(fastMs: number): void {
    if (this.isChild || this.exitInfo || this.pidfd === undefined) return;
    this.watchFastUntil = Math.max(this.watchFastUntil, Date.now() + fastMs);
    if (this.watching) return;
    this.watching = true;
    void this.watchLoop();
  }

  private async watchLoop(): Promise<void> {
    while (!this.exitInfo && this.pidfd !== undefined) {
      const fd = this.pidfd;
      const fastLeft = this.watchFastUntil - Date.now();
      const readable =
        fastLeft > 0
          ? await waitReadable(fd, Math.min(250, fastLeft))
          : await new Promise<boolean>((resolve) => setTimeout(() => resolve(this.pidfd === fd && isReadable(fd)), 1000));
      if (readable && this.pidfd === fd) {
        this.markExited({ code: null, signal: null });
        return;
      }
    }
  }
}

/** The identity of a running process, or null when there is none (or only a zombie). */
export function readProcessIdentity(pid: number): ProcessIdentity | null {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z') return null;
  return { pid, startTime: stat.startTime };
}

function readStartTime(pid: number): number | undefined {
  return readStat(pid)?.startTime;
}

function readStat(pid: number): { state: string; startTime: number; cpuTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15, starttime field 22.
  return { state: fields[0] ?? '?', startTime: Number(fields[19]), cpuTicks: Number(fields[11] ?? 0) + Number(fields[12] ?? 0) };
}

/** The end of a log file from `from` on, at most maxBytes, cut at a line start. */
export async function readLogTail(path: string, from = 0, maxBytes = 16 * 1024): Promise<string> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await fh.stat()).size;
    const start = Math.max(from, size - maxBytes);
    if (start >= size) return '';
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    if (start > from) text = text.slice(text.indexOf('\n') + 1);
    return text;
  } finally {
    await fh.close();
  }
}

/**
 * The error for a QEMU that died while starting, in libvirt's words, with QEMU's own lines
 * (its log since the start, the last 1024 characters from a line start, as libvirt's
 * qemuProcessReportLogError) as the detail: "process exited while connecting to monitor: …";
 * "qemu unexpectedly closed the monitor: …" when the monitor hung up during the start (with
 * the monitor socket passed as a descriptor, the connection is there from the first moment);
 * "QEMU unexpectedly closed the monitor (vm='NAME'): …" once it was up.
 */
export function qemuStartError(vmName: string, logText: string, monitorConnected: boolean | 'startup'): VirtError {
  const lines = logText
    .split('\n')
    .map((l) => l.trimEnd())
    // QEMU's notes about chardevs it created are not why it failed.
    .filter((l) => l && !/char device redirected to/.test(l));
  let detail = lines.join('\n') || 'no error output from QEMU';
  if (detail.length > 1024) {
    const rest = detail.slice(detail.length - 1024);
    const nl = rest.indexOf('\n');
    detail = detail[detail.length - 1025] === '\n' || nl < 0 || nl === rest.length - 1 ? rest : rest.slice(nl + 1);
  }
  const prefix =
    monitorConnected === 'startup'
      ? 'qemu unexpectedly closed the monitor'
      : monitorConnected
        ? `QEMU unexpectedly closed the monitor (vm='${vmName}')`
        : 'process exited while connecting to monitor';
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `${prefix}: ${detail}`, { object: vmName });
}

/** "2026-11-23 10:15:01.123+0000", libvirt's log time stamp. */
function logTimestamp(): string {
  return new Date().toISOString().replace('T', ' ').replace('Z', '+0000');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

// The test guest (`make guest`: build/guest/vmlinuz + initrd.img, scripts/buildGuest.sh) and a
// reader for its serial console: wait for a line or the prompt, type a command, get its output.
// The guest prints "TSVIRT-GUEST-READY eth0=MAC …" when it is up, runs DHCP on every NIC in
// the background (lease in /run/dhcp.<nic>), and runs a shell with the prompt GUEST_PROMPT.
// Boot it under TCG (`-accel tcg`, <domain type='qemu'>): Linux guests hang under KVM here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { QemuConsole, consoleChardevArg } from '../../src/drivers/qemu/console.js';
import { QemuProcess } from '../../src/drivers/qemu/qemuProcess.js';
import { QmpClient } from '../../src/drivers/qemu/qmp.js';
import { projectRoot } from './system.js';

export const guestKernel = join(projectRoot, 'build/guest/vmlinuz');
export const guestInitrd = join(projectRoot, 'build/guest/initrd.img');
/** Kernel command line for a guest whose console is its first serial port. */
export const guestCmdline = 'console=ttyS0 quiet';
export const GUEST_READY = 'TSVIRT-GUEST-READY';
export const GUEST_PROMPT = 'tsvirt-guest# ';

/** A `skip` reason when the guest is not built, else false. */
export function guestSkipReason(): string | false {
  if (!existsSync(guestKernel) || !existsSync(guestInitrd)) return 'test guest not built (make guest)';
  return false;
}

/** Parses "TSVIRT-GUEST-READY eth0=52:54:00:… eth1=…" into nic → MAC. */
export function parseReadyLine(line: string): Map<string, string> {
  const nics = new Map<string, string>();
  for (const word of line.trim().split(/\s+/).slice(1)) {
    const eq = word.indexOf('=');
    if (eq > 0) nics.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return nics;
}

// Terminal control sequences the guest's line editor prints (cursor queries, redraws).
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])/g;

interface Waiter {
  pattern: string | RegExp;
  resolve(m: RegExpExecArray): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Reads and types on a guest console stream (what dom.openConsole() or QemuConsole.open() gives). */
export class GuestConsole {
  /** Everything read so far, with \r\n made \n and terminal escapes removed. */
  text = '';
  private pos = 0;
  private readonly waiters = new Set<Waiter>();
  private ended: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(readonly stream: Duplex) {
    stream.setEncoding('latin1');
    stream.on('data', (chunk: string) => {
      this.text += chunk.replace(ANSI, '').replace(/\r/g, '');
      this.check();
    });
    const end = (): void => {
      this.ended = new Error(`console closed; last output:\n${this.text.slice(-500)}`);
      for (const w of this.waiters) this.fail(w, this.ended);
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', () => undefined);
  }

  /**
   * Waits until `pattern` shows up after what earlier waits consumed, and consumes up to the
   * end of it. A string matches literally.
   */
  waitFor(pattern: string | RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pattern,
        resolve,
        reject,
        timer: setTimeout(
          () => this.fail(w, new Error(`no ${String(pattern)} on the console within ${timeoutMs} ms; last output:\n${this.text.slice(-800)}`)),
          timeoutMs,
        ),
      };
      this.waiters.add(w);
      this.check();
      if (this.waiters.has(w) && this.ended) this.fail(w, this.ended);
    });
  }

  /** Waits for the readiness line; returns nic → MAC. */
  async waitReady(timeoutMs = 60_000): Promise<Map<string, string>> {
    const m = await this.waitFor(new RegExp(`${GUEST_READY}[^\\n]*\\n`), timeoutMs);
    return parseReadyLine(m[0]);
  }

  /** Waits for the shell prompt. */
  async waitPrompt(timeoutMs = 60_000): Promise<void> {
    await this.waitFor(GUEST_PROMPT, timeoutMs);
  }

  /**
   * Types one command line and returns what it printed and its exit status. The command is
   * bracketed by marker lines that its echo cannot contain, so echo, prompts and line-editor
   * noise never end up in the output.
   */
  exec(command: string, timeoutMs = 30_000): Promise<{ output: string; status: number }> {
    const run = async (): Promise<{ output: string; status: number }> => {
      const n = ++this.seq;
      // In the echo the markers read TSV""B…; only the shell's output has them joined.
      this.stream.write(`echo TSV""B${n}; ${command}; echo TSV""E${n}:$?\n`);
      await this.waitFor(new RegExp(`(^|\\n)TSVB${n}\\n`), timeoutMs);
      const start = this.pos;
      const end = await this.waitFor(new RegExp(`(^|\\n)TSVE${n}:(\\d+)\\n`), timeoutMs);
      const output = this.text.slice(start, this.pos - end[0].length + (end[1] ? 1 : 0));
      return { output, status: Number(end[2]) };
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Types a command; resolves with its output (what exec() gives, without the status). */
  async run(command: string, timeoutMs = 30_000): Promise<string> {
    return (await this.exec(command, timeoutMs)).output;
  }

  close(): void {
    this.stream.destroy();
  }

  private check(): void {
    for (const w of this.waiters) {
      const rest = this.text.slice(this.pos);
      let m: RegExpExecArray | null;
      if (typeof w.pattern === 'string') {
        const i = rest.indexOf(w.pattern);
        m = i < 0 ? null : Object.assign([w.pattern], { index: i, input: rest }) as RegExpExecArray;
      } else {
        m = new RegExp(w.pattern.source, w.pattern.flags.replace('g', '')).exec(rest);
      }
      if (!m) continue;
      this.pos += m.index + m[0].length;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(m);
    }
  }

  private fail(w: Waiter, err: Error): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.reject(err);
  }
}

export interface RawGuestOptions {
  /** Directory for the QMP and console sockets and the log. */
  dir: string;
  name: string;
  /** One virtio-net NIC per entry: its MAC and the -netdev value (without id=). */
  nics?: { mac: string; netdev: string }[];
  memoryMiB?: number;
  extraArgs?: string[];
  /** Descriptors QEMU inherits (fd number in QEMU → ours). */
  fds?: ReadonlyMap<number, number>;
  /** A file QEMU copies the console output to. */
  consoleLog?: string;
}

export interface RawGuest extends LaunchedGuest {
  consoleSocket: string;
  qmpSocket: string;
  logFile: string;
}

/**
 * Boots the test guest under plain QEMU (TCG), serial console on a unix socket through
 * QemuConsole, QMP on another. The guest starts paused until the console session is open, so
 * no output is lost.
 */
export async function startRawGuest(opts: RawGuestOptions): Promise<RawGuest> {
  const qmpSocket = join(opts.dir, `${opts.name}.qmp`);
  const consoleSocket = join(opts.dir, `${opts.name}.console`);
  const logFile = join(opts.dir, `${opts.name}.log`);
  const args = [
    '-name',
    `guest=${opts.name}`,
    '-S',
    '-accel',
    'tcg',
    '-m',
    String(opts.memoryMiB ?? 256),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    guestKernel,
    '-initrd',
    guestInitrd,
    '-append',
    guestCmdline,
    '-qmp',
    `unix:${qmpSocket},server=on,wait=off`,
    '-chardev',
    consoleChardevArg('charserial0', consoleSocket, { logFile: opts.consoleLog }),
    '-serial',
    'chardev:charserial0',
  ];
  (opts.nics ?? []).forEach((nic, i) => {
    // romfile= : no iPXE option ROM, which would spend boot time looking for a PXE server.
    args.push('-netdev', `${nic.netdev},id=net${i}`, '-device', `virtio-net-pci,netdev=net${i},mac=${nic.mac},romfile=`);
  });
  args.push(...(opts.extraArgs ?? []));
  const launched = await launchGuest({ binary: 'qemu-system-x86_64', args, name: opts.name, qmpSocket, consoleSocket, logFile, fds: opts.fds });
  return { ...launched, consoleSocket, qmpSocket, logFile };
}

export interface LaunchedGuest {
  proc: QemuProcess;
  qmp: QmpClient;
  console: QemuConsole;
  /** Console reader on a session opened before the guest runs. */
  guest: GuestConsole;
  /** Kills QEMU and closes everything. */
  stop(): Promise<void>;
}

/**
 * Runs a QEMU argv that starts paused (-S) with QMP on `qmpSocket` and the serial console on
 * `consoleSocket`: connects QMP, opens the console, then lets the guest run, so no output is
 * lost. A QEMU that dies on the way is reported with its log and argv.
 */
export async function launchGuest(opts: {
  binary: string;
  args: string[];
  name: string;
  qmpSocket: string;
  consoleSocket: string;
  logFile: string;
  fds?: ReadonlyMap<number, number>;
}): Promise<LaunchedGuest> {
  const proc = await QemuProcess.spawn({ binary: opts.binary, args: opts.args, logFile: opts.logFile, fds: opts.fds });
  let qmp: QmpClient | undefined;
  try {
    const gone = new AbortController();
    void proc.exited.then(() => gone.abort());
    qmp = await QmpClient.connect(opts.qmpSocket, { vmName: opts.name, signal: gone.signal });
    const console = new QemuConsole(opts.consoleSocket);
    const guest = new GuestConsole(await console.open());
    await qmp.execute('cont');
    const q = qmp;
    return {
      proc,
      qmp,
      console,
      guest,
      async stop() {
        console.close();
        q.close();
        await proc.kill({ graceMs: 3000 });
      },
    };
  } catch (err) {
    qmp?.close();
    await proc.kill({ graceMs: 1000 }).catch(() => undefined);
    if (!proc.running) throw new Error(`QEMU failed: ${String(err)}\n${await proc.readLog()}\nargv: ${opts.args.join(' ')}`);
    throw err;
  }
}

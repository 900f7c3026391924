// A real tsvirtd for tests: bin/tsvirtd as its own process.
//
// - 'system' (default): as root, with --root DIR, so its sockets, pid file, QEMU state and log
//   live in a temp dir of its own (DIR/run/libvirt-sock, DIR/run/libvirt-sock-ro).
// - 'session': as the unprivileged test user with XDG_RUNTIME_DIR, XDG_CONFIG_HOME,
//   XDG_CACHE_HOME, XDG_DATA_HOME and HOME in the temp dir: the same layout test/helpers/libvirtd.ts
//   gives a private libvirtd, so the two can be compared side by side (qemu:///session).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canConnect } from '../helpers/sockets.js';
import { projectRoot, testUser } from '../helpers/system.js';

export interface RunningTsvirtd {
  mode: 'system' | 'session';
  dir: string;
  /** The read-write socket. */
  socket: string;
  /** The read-only socket (system only). */
  roSocket: string | null;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** `<driver>+unix://<path>?socket=<socket>` (ro: the read-only socket). */
  uri(driver?: string, path?: string, ro?: boolean): string;
  /** What the daemon wrote to stderr (its log, unless log_outputs says otherwise). */
  log(): string;
  /** Resident memory of the daemon process, KiB (from /proc). */
  rssKiB(): number;
  /** Sends a signal and waits for the exit (SIGKILL after 15 s). */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts it again on the same directory (after kill). */
  restart(): Promise<void>;
  /** Stops it (SIGTERM) and removes the temp dir. */
  stop(): Promise<void>;
}

export interface TsvirtdOptions {
  mode?: 'system' | 'session';
  /** Names the temp dir: /tmp/tsvirt-daemon-<tag>-<pid>-… */
  tag?: string;
  /** tsvirtd.conf text (passed with --config). */
  config?: string;
  /** More arguments (e.g. --listen, -v). */
  args?: string[];
  /** Reuse this directory (it is not removed by stop()). */
  dir?: string;
  /** ms to wait for the socket (default 20 s). */
  timeout?: number;
}

export const TSVIRTD = join(projectRoot, 'bin/tsvirtd');

/** The environment of a session instance living in `dir` (also for clients of it). */
export function sessionEnv(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_DATA_HOME: join(dir, 'data'),
    HOME: join(dir, 'home'),
    LANG: 'C',
  };
}

export async function startTsvirtd(opts: TsvirtdOptions = {}): Promise<RunningTsvirtd> {
  const mode = opts.mode ?? 'system';
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(`/tmp/tsvirt-daemon-${opts.tag ?? 'test'}-${process.pid}-`);
  chmodSync(dir, 0o755);
  const logPath = join(dir, 'tsvirtd.stderr');
  const confPath = join(dir, 'tsvirtd.conf');
  if (opts.config !== undefined) writeFileSync(confPath, opts.config);
  // Run as installed: the executable itself, so its interpreter line's node flags apply.
  const args = [...(opts.config !== undefined ? ['--config', confPath] : []), ...(opts.args ?? [])];
  let env: NodeJS.ProcessEnv;
  let ids: { uid?: number; gid?: number } = {};
  let socket: string;
  let roSocket: string | null;
  if (mode === 'system') {
    const root = join(dir, 'root');
    mkdirSync(root, { recursive: true });
    args.push('--root', root);
    env = { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, LANG: 'C' };
    socket = join(root, 'run', 'libvirt-sock');
    roSocket = join(root, 'run', 'libvirt-sock-ro');
  } else {
    const user = testUser();
    for (const d of ['run', 'config', 'cache', 'data', 'home']) {
      mkdirSync(join(dir, d), { recursive: true });
      chownSync(join(dir, d), user.uid, user.gid);
    }
    chmodSync(join(dir, 'run'), 0o700);
    if (opts.config !== undefined) chownSync(confPath, user.uid, user.gid);
    env = sessionEnv(dir);
    ids = { uid: user.uid, gid: user.gid };
    socket = join(dir, 'run', 'tsvirt', 'libvirt-sock');
    roSocket = null;
  }
  let child: ChildProcess | null = null;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });

  const launch = async (): Promise<void> => {
    const fd = openSync(logPath, 'a');
    if (ids.uid !== undefined) chownSync(logPath, ids.uid, ids.gid!);
    const c = spawn(TSVIRTD, args, { env, stdio: ['ignore', fd, fd], cwd: dir, ...ids });
    closeSync(fd);
    child = c;
    exited = new Promise((r) => c.once('exit', (code, signal) => r({ code, signal })));
    let gone = false;
    c.once('exit', () => (gone = true));
    const deadline = Date.now() + (opts.timeout ?? 20000);
    while (Date.now() < deadline) {
      if (gone) throw new Error(`tsvirtd exited early: ${readFileSync(logPath, 'utf8').slice(-3000)}`);
      if (existsSync(socket) && (await canConnect(socket))) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    c.kill('SIGKILL');
    throw new Error(`tsvirtd did not listen on ${socket} in time: ${readFileSync(logPath, 'utf8').slice(-3000)}`);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return exited;
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 15000);
    const r = await exited;
    clearTimeout(t);
    return r;
  };

  await launch();
  return {
    mode,
    dir,
    socket,
    roSocket,
    get pid() {
      return child?.pid ?? -1;
    },
    get proc() {
      return child!;
    },
    uri: (driver = 'test', path = '/default', ro = false) => `${driver}+unix://${path}?socket=${ro && roSocket ? roSocket : socket}`,
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    rssKiB: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child!.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : -1;
    },
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A private, real libvirtd for tests.
//
// - 'session' (default): libvirtd runs as the unprivileged test user with XDG_RUNTIME_DIR,
//   XDG_CONFIG_HOME, XDG_CACHE_HOME and HOME in a temp dir of its own, so any number run side
//   by side; its socket is <dir>/run/libvirt/libvirt-sock. Root reaches it with
//   `test+unix:///default?socket=…` or `qemu+unix:///session?socket=…`.
// - 'system': the machine's one root libvirtd (owns /run/libvirt), serialised between helpers
//   with flock on /tmp/tsvirt-libvirtd.lock, held for as long as it runs.
//
// Extra libvirtd.conf lines (listen_tcp, tcp_port, auth_tcp, TLS files, …) go in `config`;
// `listen` adds --listen for TCP/TLS listeners.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect } from './sockets.js';
import { hasCommand, isRoot, testUser } from './system.js';

export interface PrivateLibvirtd {
  mode: 'session' | 'system';
  /** The read-write socket. */
  socket: string;
  /** The read-only socket ('system' only; a session daemon has none). */
  roSocket: string | null;
  pid: number;
  /** The temp dir holding the daemon's runtime, config and log (session). */
  dir: string;
  /** `<driver>+unix://<path>?socket=<socket>`; e.g. uri('test', '/default'). */
  uri(driver?: string, path?: string): string;
  /** The daemon's stderr/log so far. */
  log(): string;
  /** Stops the daemon and leaves its state (a later start() on the same dir resumes it). */
  kill(): Promise<void>;
  /** Starts it again after kill(), same sockets and dirs. */
  restart(): Promise<void>;
  /** Stops the daemon and removes its temp dir. */
  stop(): Promise<void>;
}

export interface LibvirtdOptions {
  mode?: 'session' | 'system';
  /** Names the temp dir so parallel tests of different helpers cannot collide. */
  tag?: string;
  /** Extra libvirtd.conf lines. */
  config?: string;
  /** Pass --listen (TCP/TLS listeners configured in `config`). */
  listen?: boolean;
  /** Milliseconds to wait for the socket (default 20 s; 10 min in 'system' mode, which may wait for the lock). */
  timeout?: number;
}

/** Why a test needing a private libvirtd must skip, or false. */
export function libvirtdSkipReason(mode: 'session' | 'system' = 'session'): string | false {
  if (!isRoot) return 'needs root (to run libvirtd as the test user)';
  if (!hasCommand('libvirtd')) return 'needs libvirtd';
  if (mode === 'system' && !hasCommand('flock')) return 'needs flock';
  return false;
}

export async function startLibvirtd(opts: LibvirtdOptions = {}): Promise<PrivateLibvirtd> {
  const mode = opts.mode ?? 'session';
  const tag = opts.tag ?? 'test';
  const dir = mkdtempSync(`/tmp/tsvirt-${tag}-${process.pid}-lvd-`);
  const logPath = join(dir, 'libvirtd.log');
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  let socket: string;
  let roSocket: string | null;
  let argv: string[];
  let env: NodeJS.ProcessEnv;
  let spawnOpts: { uid?: number; gid?: number } = {};
  const confPath = join(dir, 'libvirtd.conf');

  if (mode === 'session') {
    const user = testUser();
    chmodSync(dir, 0o755);
    for (const d of ['run', 'config/libvirt', 'cache', 'home']) mkdirSync(join(dir, d), { recursive: true });
    chmodSync(join(dir, 'run'), 0o700);
    writeFileSync(join(dir, 'config/libvirt/libvirtd.conf'), opts.config ?? '');
    for (const p of ['run', 'config', 'config/libvirt', 'config/libvirt/libvirtd.conf', 'cache', 'home']) chownSync(join(dir, p), user.uid, user.gid);
    socket = join(dir, 'run/libvirt/libvirt-sock');
    roSocket = null;
    argv = ['libvirtd', ...(opts.listen ? ['--listen'] : [])];
    env = {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      XDG_RUNTIME_DIR: join(dir, 'run'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_CACHE_HOME: join(dir, 'cache'),
      HOME: join(dir, 'home'),
      LANG: 'C',
    };
    spawnOpts = { uid: user.uid, gid: user.gid };
  } else {
    // Whatever the config says, the sockets stay where libvirt's clients look for them.
    writeFileSync(confPath, opts.config ?? '');
    socket = '/run/libvirt/libvirt-sock';
    roSocket = '/run/libvirt/libvirt-sock-ro';
    // flock -F execs libvirtd holding the lock fd: the lock lives exactly as long as the daemon.
    argv = ['flock', '-F', '/tmp/tsvirt-libvirtd.lock', 'libvirtd', '--config', confPath, ...(opts.listen ? ['--listen'] : [])];
    env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
  }

  const launch = async (): Promise<void> => {
    const fd = openSync(logPath, 'a');
    if (mode === 'session') chownSync(logPath, spawnOpts.uid!, spawnOpts.gid!);
    const c = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', fd, fd], cwd: dir, ...spawnOpts });
    closeSync(fd);
    child = c;
    exited = new Promise((r) => c.once('exit', () => r()));
    const deadline = Date.now() + (opts.timeout ?? (mode === 'system' ? 600000 : 20000));
    let exitedEarly = false;
    c.once('exit', () => {
      exitedEarly = true;
    });
    // The system daemon writes /run/libvirtd.pid: wait for our pid there, so a daemon someone
    // else left running is never mistaken for ours.
    const ours = () => mode === 'session' || (existsSync('/run/libvirtd.pid') && readFileSync('/run/libvirtd.pid', 'utf8').trim() === String(c.pid));
    while (Date.now() < deadline) {
      if (exitedEarly) throw new Error(`libvirtd exited early: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
      if (ours() && existsSync(socket) && (await canConnect(socket))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    c.kill('SIGKILL');
    throw new Error(`libvirtd did not create ${socket} in time: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
  };

  const kill = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(t);
  };

  await launch();
  return {
    mode,
    socket,
    roSocket,
    get pid() {
      return child?.pid ?? -1;
    },
    dir,
    uri: (driver = 'test', path = '/default') => `${driver}+unix://${path}?socket=${socket}`,
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

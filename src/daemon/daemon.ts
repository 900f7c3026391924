// tsvirtd: libvirt's remote program served on unix sockets (libvirt-sock read-write,
// libvirt-sock-ro read-only), and with --listen on TCP and TLS, over the drivers of this process.
//
// Start-up order (as libvirtd): configuration, logging, the pid file (a second daemon on the same
// pid file stops here), the sockets, then — in the background, so the first client is answered
// at once — the QEMU driver's state (reattach to running guests, autostart). Stop (SIGTERM):
// the listeners and clients go, the drivers are closed without touching guests, the socket files
// and the pid file are removed. Reload (SIGHUP): the config file is read again and the keys
// that can change at run time (logging, limits, keepalive) take effect; the others are named as
// needing a restart.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { daemonSocketDir, RO_SOCKET_NAME, RW_SOCKET_NAME } from '../api/daemonSocket.js';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../errors/index.js';
import type { AccessRequest } from '../remote/serverSession.js';
import { RemoteServer } from '../remote/remoteServer.js';
import type { ClientIdentity } from '../rpc/serverConnection.js';
import { pkiFiles, type PkiFiles } from '../rpc/transport.js';
import {
  builtinDaemonConfig,
  configChanges,
  loadDaemonConfig,
  reloadedConfig,
  type ConfigChanges,
  type DaemonConfig,
  type LoadedConfig,
} from './daemonConfig.js';
import { LocalDrivers } from './localDrivers.js';
import { DaemonLog, LogLevel, type LogSettings } from './logging.js';
import { PidFile } from './pidFile.js';

export type DaemonMode = 'system' | 'session';

/** Where this instance keeps its files. */
export interface DaemonPaths {
  mode: DaemonMode;
  /** --root: everything under this directory (DIR/etc, DIR/run, DIR/lib, DIR/log). */
  root: string | null;
  /** Read when it exists and no --config is given. */
  configFile: string;
  /** unix_sock_dir's default. */
  sockDir: string;
  pidFile: string;
  /** Where --daemon logs when the config names no log_outputs. */
  logFile: string;
}

/** The default paths of the system instance (root), a --root instance, or a user's session. */
export function daemonPaths(mode: DaemonMode, root: string | null, env: NodeJS.ProcessEnv = process.env): DaemonPaths {
  if (root) {
    return {
      mode,
      root,
      configFile: join(root, 'etc', 'tsvirtd.conf'),
      sockDir: join(root, 'run'),
      pidFile: join(root, 'run', 'tsvirtd.pid'),
      logFile: join(root, 'log', 'tsvirtd.log'),
    };
  }
  if (mode === 'system') {
    return {
      mode,
      root: null,
      configFile: '/etc/tsvirt/tsvirtd.conf',
      sockDir: daemonSocketDir(false, env),
      pidFile: '/run/tsvirtd.pid',
      logFile: '/var/log/tsvirt/tsvirtd.log',
    };
  }
  const home = env.HOME || homedir();
  const sockDir = daemonSocketDir(true, env);
  return {
    mode,
    root: null,
    configFile: join(env.XDG_CONFIG_HOME || join(home, '.config'), 'tsvirt', 'tsvirtd.conf'),
    sockDir,
    pidFile: join(sockDir, 'tsvirtd.pid'),
    logFile: join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'tsvirt', 'log', 'tsvirtd.log'),
  };
}

export interface TsvirtdOptions {
  /** --config FILE (must exist); without it the default file is read when present. */
  configFile?: string | null;
  /** --listen: open the TCP/TLS listeners the config enables (listen_tcp, listen_tls). */
  listen?: boolean;
  /** --pid-file FILE; '' for none. */
  pidFile?: string | null;
  /** --root DIR: a private instance whose state and sockets all live under DIR. */
  root?: string | null;
  /** --verbose: log at info level at least. */
  verbose?: boolean;
  /** Log to the instance's log file when the config names no outputs (--daemon). */
  logToFile?: boolean;
  /** 'system' (the default as root) or 'session'. */
  mode?: DaemonMode;
  env?: NodeJS.ProcessEnv;
}

export interface DaemonSockets {
  rw: string;
  /** null for a session daemon (it has no read-only socket, as libvirtd). */
  ro: string | null;
  tcp: AddressInfo | null;
  tls: AddressInfo | null;
}

/** A group name (or "+GID" / a number) to its gid, from /etc/group. */
export function groupId(name: string): number {
  const numeric = /^\+?(\d+)$/.exec(name);
  if (numeric) return Number(numeric[1]);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    // no group database: not found
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.CONF, `Failed to find group record for name '${name}'`, { value: name });
}

function logSettings(c: DaemonConfig, opts: TsvirtdOptions, paths: DaemonPaths): LogSettings {
  const level = opts.verbose ? Math.min(c.logLevel, LogLevel.INFO) : c.logLevel;
  const outputs = c.logOutputs ?? (opts.logToFile ? [{ level, dest: 'file' as const, path: paths.logFile }] : null);
  return { level, filters: c.logFilters, outputs };
}

function hostPort(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function describeIdentity(i: ClientIdentity): string {
  if (i.transport === 'unix') return `uid=${i.uid} gid=${i.gid} pid=${i.pid}`;
  return i.x509dname ? `${i.address} x509 '${i.x509dname}'` : i.address;
}

export class Tsvirtd {
  readonly log: DaemonLog;
  readonly server: RemoteServer;
  readonly drivers: LocalDrivers;
  readonly sockets: DaemonSockets = { rw: '', ro: null, tcp: null, tls: null };
  /** Resolves once the QEMU driver's state is loaded at start-up (guests reattached, autostart done). */
  qemuReady: Promise<void> = Promise.resolve();
  private pid: PidFile | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly paths: DaemonPaths,
    public config: LoadedConfig,
    private readonly opts: TsvirtdOptions,
    log: DaemonLog,
  ) {
    this.log = log;
    const access = log.category('daemon.access');
    const clients = log.category('daemon.clients');
    this.drivers = new LocalDrivers({ mode: paths.mode, root: paths.root, log: log.category('daemon.drivers') });
    const c = config.config;
    this.server = new RemoteServer({
      openDriver: (uri, o) => {
        clients.info(`open '${uri || this.drivers.defaultURI}'${o.readonly ? ' read-only' : ''} for ${describeIdentity(o.identity)}`);
        return this.drivers.openForClient(uri, o);
      },
      authorize: (req: AccessRequest) => {
        // Access is decided by who could connect (socket modes, certificates); the hook records
        // who did what.
        if (log.enabled(LogLevel.DEBUG, 'daemon.access')) {
          access.debug(`${req.procedure.name} by ${describeIdentity(req.identity)}${req.readonly ? ' (read-only)' : ''}: allowed`);
        }
      },
      onConnection: (conn) => {
        clients.info(`client ${conn.id} connected: ${conn.identity.transport} ${describeIdentity(conn.identity)}${conn.readonly ? ' (read-only socket)' : ''}`);
        conn.once('close', (reason: string) => clients.info(`client ${conn.id} gone: ${reason}`));
      },
      maxClients: c.maxClients,
      maxClientRequests: c.maxClientRequests,
      keepaliveInterval: c.keepaliveInterval,
      keepaliveCount: c.keepaliveCount,
      logger: log.category('rpc'),
    });
  }

  /** Reads the configuration, takes the pid file, listens. Throws (and leaves nothing) on failure. */
  static async start(opts: TsvirtdOptions = {}): Promise<Tsvirtd> {
    const env = opts.env ?? process.env;
    const mode: DaemonMode = opts.mode ?? (process.geteuid?.() === 0 ? 'system' : 'session');
    const paths = daemonPaths(mode, opts.root ?? null, env);
    let config: LoadedConfig;
    if (opts.configFile) config = loadDaemonConfig(opts.configFile);
    else if (existsSync(paths.configFile)) config = loadDaemonConfig(paths.configFile);
    else config = builtinDaemonConfig();

    const log = new DaemonLog(logSettings(config.config, opts, paths));
    const d = new Tsvirtd(paths, config, opts, log);
    const clog = log.category('daemon.config');
    for (const w of config.warnings) clog.warn(w);
    for (const n of log.notes) clog.warn(n);
    try {
      if (opts.pidFile !== '') d.pid = PidFile.acquire(opts.pidFile ?? paths.pidFile);
      await d.listen();
    } catch (err) {
      await d.server.close().catch(() => {});
      d.pid?.release();
      log.close();
      throw err;
    }
    log.category('daemon').info(
      `tsvirtd ${mode}${paths.root ? ` (root ${paths.root})` : ''} listening on ${d.sockets.rw}${d.sockets.ro ? `, ${d.sockets.ro}` : ''}` +
        `${d.sockets.tcp ? `, tcp ${hostPort(d.sockets.tcp)}` : ''}${d.sockets.tls ? `, tls ${hostPort(d.sockets.tls)}` : ''}`,
    );
    // Guests to reattach or autostart: load the QEMU driver now; else on the first client's open.
    if (d.drivers.qemuHasWork()) d.qemuReady = d.drivers.startQemu();
    return d;
  }

  private async listen(): Promise<void> {
    const c = this.config.config;
    const dir = c.unixSockDir ?? this.paths.sockDir;
    try {
      mkdirSync(dir, { recursive: true, mode: this.paths.mode === 'system' ? 0o755 : 0o700 });
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.NONE, `unable to create rundir ${dir}`, { value: dir });
    }
    // TCP and TLS first: once the unix socket exists every listener is up.
    if (this.opts.listen) await this.listenNetwork(c);
    const gid = c.unixSockGroup !== null ? groupId(c.unixSockGroup) : undefined;
    const rw = join(dir, RW_SOCKET_NAME);
    await this.server.listenUnix(rw, { mode: c.unixSockRwPerms, gid, auth: c.authUnixRw });
    this.sockets.rw = rw;
    if (this.paths.mode === 'system') {
      const ro = join(dir, RO_SOCKET_NAME);
      await this.server.listenUnix(ro, { mode: c.unixSockRoPerms, gid, auth: c.authUnixRo, readonly: true });
      this.sockets.ro = ro;
    }
  }

  private async listenNetwork(c: DaemonConfig): Promise<void> {
    if (c.listenTls) {
      const files = this.tlsFiles(c);
      const verify = !c.tlsNoVerifyCertificate;
      this.sockets.tls = await this.server.listenTls(c.listenAddr ?? undefined, c.tlsPort, {
        files,
        verifyClient: verify,
        allowedDNs: c.tlsAllowedDnList ?? undefined,
        crl: c.crlFile ?? undefined,
        auth: c.authTls,
      });
    }
    if (c.listenTcp) {
      // No authentication on TCP: stay on loopback unless listen_addr says otherwise.
      const host = c.listenAddr ?? '127.0.0.1';
      if (c.authTcp === 'none' && !/^(127\.|::1$|localhost$)/.test(host)) {
        this.log.category('daemon').warn(`TCP on ${host} without authentication: anyone who can reach the port controls this host`);
      }
      this.sockets.tcp = await this.server.listenTcp(host, c.tcpPort, { auth: c.authTcp });
    }
  }

  private tlsFiles(c: DaemonConfig): PkiFiles {
    if (c.caFile || c.certFile || c.keyFile) {
      if (!c.caFile) throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, 'No CA certificate path set to match server key/cert');
      if (!c.certFile) throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, 'No server certificate path set to match server key');
      if (!c.keyFile) throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, 'No server key path set to match server cert');
      return { cacert: c.caFile, cert: c.certFile, key: c.keyFile };
    }
    return pkiFiles('server', null, this.paths.mode === 'system');
  }

  /**
   * SIGHUP: reads the config file again. Logging, max_clients, max_client_requests and
   * keepalive take effect (keepalive and limits for new connections); the other changed keys
   * are reported as needing a restart. A file that no longer parses changes nothing.
   */
  async reload(): Promise<ConfigChanges> {
    const dlog = this.log.category('daemon');
    const file = this.opts.configFile || (existsSync(this.paths.configFile) ? this.paths.configFile : null);
    let next: LoadedConfig;
    try {
      next = file ? loadDaemonConfig(file) : builtinDaemonConfig();
    } catch (err) {
      dlog.error(`reload: ${(err as Error).message}; keeping the running configuration`);
      throw err;
    }
    const changes = configChanges(this.config, next);
    const c = next.config;
    try {
      this.log.configure(logSettings(c, this.opts, this.paths));
    } catch (err) {
      dlog.error(`reload: cannot open the log outputs: ${(err as Error).message}; keeping the running configuration`);
      throw fromSystemError(err, ErrorDomain.CONF, 'Cannot open the log outputs');
    }
    this.server.setLimits({
      maxClients: c.maxClients,
      maxClientRequests: c.maxClientRequests,
      keepaliveInterval: c.keepaliveInterval,
      keepaliveCount: c.keepaliveCount,
    });
    this.config = reloadedConfig(this.config, next, changes);
    for (const w of next.warnings) this.log.category('daemon.config').warn(w);
    dlog.info(`configuration reloaded from ${file ?? 'built-in defaults'}${changes.applied.length ? `; applied: ${changes.applied.join(', ')}` : ''}`);
    if (changes.needRestart.length) dlog.warn(`changed keys that need a restart of tsvirtd: ${changes.needRestart.join(', ')}`);
    return changes;
  }

  /** Stops listening, drops clients, closes the drivers (guests keep running), removes the files. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const dlog = this.log.category('daemon');
      dlog.info('shutting down');
      await this.server.close();
      await this.drivers.close();
      this.pid?.release();
      dlog.info('stopped');
      this.log.close();
    })();
    return this.stopping;
  }
}

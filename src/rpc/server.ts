// Accepts connections on unix sockets (with a file mode), TCP and TLS, and tracks the clients.
// What a connection speaks is set up by the `onConnection` hook (the remote program's session);
// this class only knows sockets. close() stops listening and drops clients; it never touches
// what the programs' drivers manage (guests keep running).
import { lstatSync, unlinkSync, chmodSync, chownSync } from 'node:fs';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../errors/index.js';
import { getPeerCredentials } from '../host/syscalls.js';
import type { Logger } from './logger.js';
import { stderrLogger } from './logger.js';
import { ServerConnection, type ClientIdentity } from './serverConnection.js';
import { readPem, type PkiFiles } from './transport.js';

export interface ServerOptions {
  /** Sets up the programs of each new connection. */
  onConnection(conn: ServerConnection): void;
  /** libvirtd's max_clients (5000): more connections are refused with a log line. */
  maxClients?: number;
  /** libvirtd's max_client_requests (5). */
  maxClientRequests?: number;
  /** Events waiting for one slow client before it is dropped. */
  maxQueuedMessages?: number;
  /** keepalive_interval / keepalive_count (5, 5). */
  keepaliveInterval?: number;
  keepaliveCount?: number;
  logger?: Logger;
}

export interface ListenOptions {
  /** Every connection from this listener is read-only (libvirt-sock-ro). */
  readonly?: boolean;
  /** Authentication scheme of this listener (auth_unix_rw, auth_tcp, …): 'none' or 'polkit'. */
  auth?: string;
}

export interface UnixListenOptions extends ListenOptions {
  /** Socket file mode, e.g. 0o700 (rw socket) or 0o777 (ro socket). */
  mode?: number;
  /** Group owning the socket file (unix_sock_group). */
  gid?: number;
}

export interface TlsListenOptions extends ListenOptions {
  files: PkiFiles;
  /** Require and check a client certificate (libvirt's default; tls_no_verify_certificate=0). */
  verifyClient?: boolean;
  /** Allowed client certificate subjects, '*' and '?' as wildcards (tls_allowed_dn_list). */
  allowedDNs?: string[];
  /** A certificate revocation list (PEM) to check client certificates against (crl_file). */
  crl?: string;
}

/** The limits SIGHUP may change: they apply to connections accepted afterwards. */
export type ServerLimits = Pick<ServerOptions, 'maxClients' | 'maxClientRequests' | 'keepaliveInterval' | 'keepaliveCount'>;

interface Listener {
  server: net.Server;
  unixPath: string | null;
}

export class Server {
  private readonly listeners: Listener[] = [];
  private readonly conns = new Set<ServerConnection>();
  private nextId = 1;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly opts: ServerOptions) {
    this.log = opts.logger ?? stderrLogger;
  }

  get clients(): ReadonlySet<ServerConnection> {
    return this.conns;
  }

  /** New limits for the connections accepted from now on (tsvirtd's SIGHUP). */
  setLimits(limits: ServerLimits): void {
    for (const [k, v] of Object.entries(limits)) if (v !== undefined) (this.opts as unknown as Record<string, unknown>)[k] = v;
  }

  /**
   * Serves one already-connected stream (tests, socket activation, a socketpair). Returns
   * null when the server is full or closed.
   */
  accept(stream: Duplex, opts: ListenOptions & { identity?: ClientIdentity } = {}): ServerConnection | null {
    if (this.closed) {
      stream.destroy();
      return null;
    }
    const max = this.opts.maxClients ?? 5000;
    if (this.conns.size >= max) {
      this.log.warn(`Too many active clients (${this.conns.size}), dropping connection`);
      stream.destroy();
      return null;
    }
    const conn = new ServerConnection(stream, {
      id: this.nextId++,
      readonly: opts.readonly ?? false,
      auth: opts.auth,
      identity: opts.identity,
      maxRequests: this.opts.maxClientRequests,
      maxQueuedMessages: this.opts.maxQueuedMessages,
      keepaliveInterval: this.opts.keepaliveInterval,
      keepaliveCount: this.opts.keepaliveCount,
      logger: this.log,
    });
    this.conns.add(conn);
    conn.once('close', () => this.conns.delete(conn));
    try {
      this.opts.onConnection(conn);
    } catch (err) {
      this.log.error(`cannot set up client ${conn.describe()}: ${(err as Error).message}`);
      conn.close('setup failed');
      return null;
    }
    return conn;
  }

  /** Listens on a unix socket; a stale socket file is replaced, a live one is an error. */
  async listenUnix(path: string, opts: UnixListenOptions = {}): Promise<void> {
    await removeStaleSocket(path);
    const server = net.createServer({ pauseOnConnect: false }, (sock) => {
      let identity: ClientIdentity = { transport: 'unix', uid: null, gid: null, pid: null, address: path, x509dname: null };
      const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (typeof fd === 'number' && fd >= 0) {
        try {
          const c = getPeerCredentials(fd);
          identity = { ...identity, uid: c.uid, gid: c.gid, pid: c.pid };
        } catch (err) {
          this.log.warn(`cannot identify client on ${path}: ${(err as Error).message}`);
        }
      }
      this.accept(sock, { readonly: opts.readonly, auth: opts.auth, identity });
    });
    const mode = opts.mode ?? 0o700;
    // The socket is created with these permissions, never wider for an instant.
    const oldMask = process.umask(~mode & 0o777);
    try {
      await listen(server, { path }, path);
    } finally {
      process.umask(oldMask);
    }
    try {
      chmodSync(path, mode);
      if (opts.gid !== undefined) chownSync(path, -1, opts.gid);
    } catch (err) {
      server.close();
      throw fromSystemError(err, ErrorDomain.RPC, `Failed to set permissions on socket '${path}'`);
    }
    this.listeners.push({ server, unixPath: path });
  }

  /**
   * Listens on TCP (auth none: keep it on loopback). Returns the bound address (port 0 picks
   * one); host undefined means every address.
   */
  async listenTcp(host: string | undefined, port: number, opts: ListenOptions = {}): Promise<net.AddressInfo> {
    const server = net.createServer((sock) => {
      sock.setNoDelay(true);
      this.accept(sock, { readonly: opts.readonly, auth: opts.auth, identity: tcpIdentity(sock, 'tcp') });
    });
    await listen(server, { host, port }, `${host ?? '*'}:${port}`);
    this.listeners.push({ server, unixPath: null });
    return server.address() as net.AddressInfo;
  }

  /**
   * Listens for TLS. After the handshake the client's certificate is checked and one byte 0x01
   * is sent inside TLS to say it passed (libvirt's clients wait for it); a refused client is
   * disconnected.
   */
  async listenTls(host: string | undefined, port: number, opts: TlsListenOptions): Promise<net.AddressInfo> {
    const verify = opts.verifyClient ?? true;
    // node:tls is loaded only by a daemon that listens for TLS (it costs start-up time and memory).
    const tls = await import('node:tls');
    const server = tls.createServer(
      {
        ca: readPem(opts.files.cacert, 'CA certificate'),
        cert: readPem(opts.files.cert, 'server certificate'),
        key: readPem(opts.files.key, 'server key'),
        requestCert: verify,
        rejectUnauthorized: verify,
        ...(opts.crl ? { crl: readPem(opts.crl, 'certificate revocation list') } : {}),
      },
      (sock) => {
        sock.setNoDelay(true);
        const identity = tcpIdentity(sock, 'tls');
        const peer = sock.getPeerCertificate();
        const dname = peer && peer.subject ? formatDN(peer.subject as unknown as Record<string, string | string[]>) : null;
        identity.x509dname = dname;
        if (verify && opts.allowedDNs && !(dname && opts.allowedDNs.some((p) => globMatch(p, dname)))) {
          this.log.warn(`Client's Distinguished Name is not on the list of allowed clients (tls_allowed_dn_list): '${dname}'`);
          sock.destroy();
          return;
        }
        sock.write(Buffer.from([1]));
        this.accept(sock, { readonly: opts.readonly, auth: opts.auth, identity });
      },
    );
    server.on('tlsClientError', (err) => this.log.info(`TLS handshake failed: ${err.message}`));
    await listen(server, { host, port }, `${host ?? '*'}:${port}`);
    this.listeners.push({ server, unixPath: null });
    return server.address() as net.AddressInfo;
  }

  /** Stops listening, removes the unix socket files and drops every client. */
  async close(): Promise<void> {
    this.closed = true;
    const waits = this.listeners.map((l) => new Promise<void>((r) => l.server.close(() => r())));
    for (const l of this.listeners) {
      if (l.unixPath) {
        try {
          unlinkSync(l.unixPath);
        } catch {
          // already gone
        }
      }
    }
    for (const c of [...this.conns]) c.close('server shutdown');
    this.listeners.length = 0;
    await Promise.all(waits);
  }
}

function listen(server: net.Server, where: net.ListenOptions, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(fromSystemError(err, ErrorDomain.RPC, `Failed to bind socket to '${what}'`)));
    server.listen(where, () => {
      server.removeAllListeners('error');
      server.on('error', () => {});
      resolve();
    });
  });
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.RPC, `'${path}' exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = net.connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.RPC, `Failed to bind socket to '${path}': another daemon is listening there`);
  unlinkSync(path);
}

function tcpIdentity(sock: net.Socket, transport: 'tcp' | 'tls'): ClientIdentity {
  // A v4 client of a dual-stack listener shows as ::ffff:a.b.c.d; name it by its v4 address.
  const host = (sock.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  const address = host.includes(':') ? `[${host}]:${sock.remotePort}` : `${host}:${sock.remotePort}`;
  return { transport, uid: null, gid: null, pid: null, address, x509dname: null };
}

/** 'C=GB,O=Example,CN=client1' from a Node certificate subject. */
function formatDN(subject: Record<string, string | string[]>): string {
  const order = ['C', 'ST', 'L', 'O', 'OU', 'CN'];
  const keys = [...order.filter((k) => k in subject), ...Object.keys(subject).filter((k) => !order.includes(k))];
  return keys.flatMap((k) => [subject[k]].flat().map((v) => `${k}=${v}`)).join(',');
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(s);
}

// Where a remote URI leads, as libvirt's client decides it: the transport, the socket or host,
// and the name sent in CONNECT_OPEN (the URI without transport, host, port, user and the
// parameters the client consumes itself).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { parseConnectURI, uriParam, type ConnectURI } from '../drivers/connectUri.js';

export type RemoteTransport = 'unix' | 'tcp' | 'tls' | 'ssh' | 'ext';

export interface RemoteTarget {
  transport: RemoteTransport;
  /** The CONNECT_OPEN name: '' lets the server pick (remote://). */
  name: string;
  /** unix: the socket to connect to; ssh: the remote socket (null: virt-ssh-helper decides). */
  socketPath: string | null;
  host: string;
  port: number | null;
  user: string | null;
  /** The user session daemon (…/session, or test+… when not root). */
  session: boolean;
  /** Parameters the client consumes (socket, command, netcat, keyfile, pkipath, no_verify, …). */
  options: Map<string, string>;
}

/** Query parameters libvirt's client keeps for itself (not passed in CONNECT_OPEN's name). */
const CLIENT_PARAMS = new Set([
  'name',
  'command',
  'socket',
  'auth',
  'sshauth',
  'netcat',
  'keyfile',
  'pkipath',
  'known_hosts',
  'known_hosts_verify',
  'tls_priority',
  'mode',
  'proxy',
  'no_sanity',
  'no_verify',
  'no_tty',
  'authfile',
]);

const DEFAULT_TCP_PORT = 16509;
const DEFAULT_TLS_PORT = 16514;

function transportOf(u: ConnectURI): RemoteTransport {
  if (u.transport === null) return u.host ? 'tls' : 'unix';
  switch (u.transport) {
    case 'unix':
    case 'tcp':
    case 'tls':
    case 'ssh':
    case 'ext':
      return u.transport;
    case 'libssh':
    case 'libssh2':
      // Both are ssh; tsvirt reaches them through the ssh binary.
      return 'ssh';
    default:
      throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.REMOTE, `remote_open: transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)`, {
        value: u.transport,
      });
  }
}

/** The name sent in CONNECT_OPEN for a URI. */
export function connectOpenName(u: ConnectURI): string {
  const explicit = uriParam(u, 'name');
  if (explicit !== undefined) return explicit;
  if (u.driver === 'remote') return '';
  const kept = u.params.filter(([k]) => !CLIENT_PARAMS.has(k.toLowerCase()));
  let name = `${u.driver}://${u.path}`;
  if (kept.length) name += `?${kept.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
  return name;
}

function runtimeDir(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, 'libvirt') : join(homedir(), '.cache', 'libvirt');
}

/** libvirt's socket choice for a local connection (no `socket=`): modular daemon or libvirtd. */
export function defaultUnixSocket(driver: string | null, session: boolean, readonly: boolean, mode: 'auto' | 'legacy' | 'direct' = 'auto'): string {
  const path = (prefix: string) => (session ? join(runtimeDir(), `${prefix}-sock`) : `/var/run/libvirt/${prefix}-${readonly ? 'sock-ro' : 'sock'}`);
  const direct = driver && driver !== 'remote' ? path(`virt${driver}d`) : null;
  const legacy = path('libvirt');
  if (mode === 'legacy') return legacy;
  if (mode === 'direct') {
    if (!direct) throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, ErrorDomain.REMOTE, 'Cannot use direct socket mode if no URI is set');
    return direct;
  }
  if (direct && existsSync(direct)) return direct;
  return legacy;
}

export function remoteTarget(uri: string | ConnectURI, opts: { readonly?: boolean } = {}): RemoteTarget {
  const u = typeof uri === 'string' ? parseConnectURI(uri) : uri;
  const transport = transportOf(u);
  const options = new Map<string, string>();
  for (const [k, v] of u.params) if (CLIENT_PARAMS.has(k.toLowerCase())) options.set(k.toLowerCase(), v);
  const notRoot = process.geteuid?.() !== 0;
  const session = (u.path === '/session' || (u.transport !== null && u.driver === 'test')) && notRoot;
  const modeParam = options.get('mode');
  if (modeParam !== undefined && !['auto', 'legacy', 'direct'].includes(modeParam)) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.REMOTE, `Unknown remote mode '${modeParam}'`, { value: modeParam });
  }
  let socketPath = options.get('socket') ?? null;
  if (transport === 'unix' && socketPath === null) {
    socketPath = defaultUnixSocket(u.driver === 'remote' ? null : u.driver, session, opts.readonly ?? false, (modeParam as 'auto') ?? 'auto');
  }
  if (transport === 'ext' && !options.get('command')) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.REMOTE, "remote_open: for 'ext' transport, command is required");
  }
  return {
    transport,
    name: connectOpenName(u),
    socketPath,
    host: u.host ?? 'localhost',
    port: u.port ?? (transport === 'tls' ? DEFAULT_TLS_PORT : transport === 'tcp' ? DEFAULT_TCP_PORT : null),
    user: u.user,
    session,
    options,
  };
}

// Byte pipes an RPC connection runs over, as libvirt opens them: a unix socket, TCP, TLS over TCP
// (with the one confirmation byte the server sends inside TLS after it has checked the client's
// certificate), and ssh — a spawned `ssh … -- HOST 'sh -c …nc -U SOCKET…'` whose stdin/stdout
// carry the protocol, the command libvirt's client builds.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError, type VirtError } from '../errors/index.js';

function connectFailed(err: unknown, what: string): VirtError {
  return fromSystemError(err, ErrorDomain.RPC, `Failed to connect socket to '${what}'`);
}

/** Connects to a unix socket. Errors read as libvirt's: "Failed to connect socket to '/path': …". */
export function connectUnix(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path });
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => reject(connectFailed(err, path)));
  });
}

export function connectTcp(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => reject(connectFailed(err, `${host}:${port}`)));
  });
}

/** Files of an x509 identity: CA certificate, own certificate and key (PEM). */
export interface PkiFiles {
  cacert: string;
  cert: string;
  key: string;
}

/**
 * Where libvirt looks for TLS credentials: `pkipath` when given; else for a non-root user
 * ~/.pki/libvirt when the files are there; else /etc/pki/CA/cacert.pem and
 * /etc/pki/libvirt/{,private/}{client,server}{cert,key}.pem.
 */
export function pkiFiles(role: 'client' | 'server', pkipath?: string | null, root = process.getuid?.() === 0): PkiFiles {
  const certName = `${role}cert.pem`;
  const keyName = `${role}key.pem`;
  if (pkipath) return { cacert: join(pkipath, 'cacert.pem'), cert: join(pkipath, certName), key: join(pkipath, keyName) };
  let cacert = '/etc/pki/CA/cacert.pem';
  let cert = `/etc/pki/libvirt/${certName}`;
  let key = `/etc/pki/libvirt/private/${keyName}`;
  if (!root) {
    const user = join(homedir(), '.pki', 'libvirt');
    if (existsSync(join(user, 'cacert.pem'))) cacert = join(user, 'cacert.pem');
    if (existsSync(join(user, certName)) && existsSync(join(user, keyName))) {
      cert = join(user, certName);
      key = join(user, keyName);
    }
  }
  return { cacert, cert, key };
}

/** A PEM file's bytes; a read failure names the file and what it was to hold. */
export function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fromSystemError(err, ErrorDomain.RPC, `Cannot read ${what} '${path}'`);
  }
}

export interface TlsClientOptions {
  files: PkiFiles;
  /** libvirt's no_verify=1: do not check the server's certificate. */
  noVerify?: boolean;
}

/**
 * TLS to a libvirt server. After the handshake the server checks our certificate and sends one
 * byte 0x01 inside TLS; anything else (or EOF) means it refused us.
 */
export async function connectTls(host: string, port: number, opts: TlsClientOptions): Promise<tls.TLSSocket> {
  const ca = readPem(opts.files.cacert, 'CA certificate');
  const cert = readPem(opts.files.cert, 'client certificate');
  const key = readPem(opts.files.key, 'client key');
  // Loaded on first use, as in the server.
  const { connect, checkServerIdentity } = await import('node:tls');
  const sock = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = connect({
      host,
      port,
      ca,
      cert,
      key,
      servername: net.isIP(host) ? undefined : host,
      rejectUnauthorized: !opts.noVerify,
      checkServerIdentity: opts.noVerify ? () => undefined : checkServerIdentity,
    });
    s.once('secureConnect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      const e = err as NodeJS.ErrnoException;
      if (e.code && /CERT|SSL|TLS|SELF_SIGNED|HOSTNAME|ERR_/.test(e.code) && e.errno === undefined) {
        reject(virtError(ErrorNumber.AUTH_FAILED, ErrorDomain.RPC, `TLS handshake with ${host}:${port} failed: ${e.message}`));
      } else reject(connectFailed(err, `${host}:${port}`));
    });
  });
  sock.setNoDelay(true);
  await readConfirmation(sock);
  return sock;
}

function readConfirmation(sock: tls.TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const refused = rpcRefused;
    const onData = (chunk: Buffer) => {
      cleanup();
      sock.pause();
      if (chunk[0] !== 1) {
        sock.destroy();
        reject(refused());
        return;
      }
      if (chunk.length > 1) sock.unshift(chunk.subarray(1));
      resolve();
    };
    const onEnd = () => {
      cleanup();
      sock.destroy();
      reject(refused());
    };
    const onError = (err: Error) => {
      cleanup();
      reject(fromSystemError(err, ErrorDomain.RPC, 'Unable to read TLS confirmation'));
    };
    const cleanup = () => {
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.off('error', onError);
    };
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    sock.once('error', onError);
  });
}

function rpcRefused(): VirtError {
  const message = 'server verification (of our certificate or IP address) failed';
  return virtError(ErrorNumber.RPC, ErrorDomain.RPC, message);
}

export interface SshOptions {
  host: string;
  port?: number | null;
  user?: string | null;
  /** The ssh binary (URI `command=`), default 'ssh'. */
  binary?: string;
  keyfile?: string | null;
  /** no_tty=1: BatchMode, no password prompts. */
  noTty?: boolean;
  /** no_verify=1: StrictHostKeyChecking=no. */
  noVerify?: boolean;
  /** The remote unix socket; given means the netcat proxy is used. */
  socketPath?: string | null;
  /** netcat binary on the remote host (URI `netcat=`). */
  netcat?: string | null;
  /** 'auto' (virt-ssh-helper when the remote has it, else netcat), 'netcat' or 'native'. */
  proxy?: 'auto' | 'netcat' | 'native';
  /** The URI passed to virt-ssh-helper (the CONNECT_OPEN name). */
  driverURI: string;
  readonly?: boolean;
}

/** Quotes for a POSIX shell only when s holds a shell metacharacter (libvirt's rule). */
function shellEscape(s: string): string {
  if (s === '') return "''";
  if (!/[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// ssh runs the remote command through the remote user's shell, and the command itself runs
// `sh -c '…'`: two levels of quoting, as libvirt applies.
const doubleEscape = (s: string): string => shellEscape(shellEscape(s));

/** The remote command libvirt's client runs over ssh to reach the daemon's socket. */
export function sshRemoteCommand(o: SshOptions): string {
  let proxy = o.proxy ?? (o.socketPath ? 'netcat' : 'auto');
  if (proxy === 'auto' && o.netcat) proxy = 'netcat';
  const nc = doubleEscape(o.netcat ?? 'nc');
  const socketPath = o.socketPath ?? (o.readonly ? '/var/run/libvirt/libvirt-sock-ro' : '/var/run/libvirt/libvirt-sock');
  const nccmd =
    `if '${nc}' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;` +
    `'${nc}' $ARG -U ${socketPath}`;
  const helpercmd = `virt-ssh-helper${o.readonly ? ' -r ' : ' '}'${doubleEscape(o.driverURI)}'`;
  if (proxy === 'netcat') return `sh -c '${nccmd}'`;
  if (proxy === 'native') return `sh -c '${helpercmd}'`;
  return `sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     ${helpercmd}; else    ${nccmd}; fi'`;
}

/** argv of the ssh process (without the binary). */
export function sshArgs(o: SshOptions): string[] {
  const args: string[] = [];
  if (o.port) args.push('-p', String(o.port));
  if (o.user) args.push('-l', o.user);
  if (o.keyfile) args.push('-i', o.keyfile);
  args.push('-T', '-e', 'none');
  if (o.noTty) args.push('-o', 'BatchMode=yes');
  if (o.noVerify) args.push('-o', 'StrictHostKeyChecking=no');
  args.push('--', o.host, sshRemoteCommand(o));
  return args;
}

/**
 * Runs a command whose stdin/stdout carry the protocol (ssh, or the `ext` transport). The
 * command's stderr is kept (the last 4 KiB) for the error when it exits early.
 */
export function connectCommand(binary: string, args: string[], env: NodeJS.ProcessEnv = process.env): Duplex {
  // child_process is loaded by the first command transport only (a daemon's memory and start-up).
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096);
  });
  const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
  child.on('error', (err) => duplex.destroy(fromSystemError(err, ErrorDomain.SSH, `Cannot run '${binary}'`)));
  child.on('exit', (code, signal) => {
    if (code !== 0 && !duplex.destroyed) {
      const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`);
      duplex.destroy(virtError(ErrorNumber.SYSTEM_ERROR, ErrorDomain.RPC, `Cannot recv data: ${why}`));
    }
  });
  // Closing the pipe ends the command.
  duplex.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return duplex;
}

/** Connects over ssh as libvirt's `+ssh` transport does. */
export function connectSsh(o: SshOptions): Duplex {
  return connectCommand(o.binary ?? 'ssh', sshArgs(o));
}

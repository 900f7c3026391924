// tsvirt as a proxy for tests: tsvirtd's server core (RemoteServer) whose driver factory opens
// tsvirt's RemoteDriver to a real private libvirtd. Real clients (virsh, python-libvirt, the
// RemoteDriver) talk to the server; the server's driver talks to libvirtd: both ends of the
// protocol meet the real thing.
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { parseConnectURI } from '../../src/drivers/connectUri.js';
import type { Driver } from '../../src/drivers/driver.js';
import { FrameReader } from '../../src/rpc/frameReader.js';
import { decodeHeader, encodeMessage, MESSAGE_HEADER_MAX, MessageStatus, MessageType, type MessageHeader } from '../../src/rpc/message.js';
import type { Logger } from '../../src/rpc/logger.js';
import type { ClientIdentity } from '../../src/rpc/serverConnection.js';
import * as x from '../../src/rpc/xdr.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { RemoteServer, type RemoteServerOptions } from '../../src/remote/remoteServer.js';
import * as P from '../../src/remote/protocol.js';
import type { PrivateLibvirtd } from '../helpers/libvirtd.js';

export interface Proxy {
  server: RemoteServer;
  dir: string;
  socket: string;
  roSocket: string;
  /** `<driver>+unix://<path>?socket=<rw socket>` */
  uri(driver?: string, path?: string, ro?: boolean): string;
  /** Log lines the server wrote. */
  logs: string[];
  /** Identities the access hook saw. */
  identities: ClientIdentity[];
  close(): Promise<void>;
}

/** Opens the upstream RemoteDriver for a CONNECT_OPEN name, on the private libvirtd's socket. */
export function upstreamFactory(lvd: PrivateLibvirtd) {
  return async (name: string, o: { readonly: boolean }): Promise<Driver> => {
    const u = parseConnectURI(name || 'test:///default');
    return RemoteDriver.open({ ...u, transport: 'unix', host: null, params: [...u.params, ['socket', lvd.socket]] }, { readonly: o.readonly });
  };
}

export async function startProxy(lvd: PrivateLibvirtd, opts: Partial<RemoteServerOptions> & { rwAuth?: string } = {}): Promise<Proxy> {
  const dir = mkdtempSync(`/tmp/tsvirt-rpc-${process.pid}-srv-`);
  chmodSync(dir, 0o755);
  const logs: string[] = [];
  const identities: ClientIdentity[] = [];
  const logger: Logger = {
    debug() {},
    info: (m) => logs.push(`info: ${m}`),
    warn: (m) => logs.push(`warn: ${m}`),
    error: (m) => logs.push(`error: ${m}`),
  };
  const server = new RemoteServer({
    openDriver: upstreamFactory(lvd),
    logger,
    authorize: (req) => {
      if (identities.length < 100) identities.push(req.identity);
    },
    ...opts,
  });
  const socket = join(dir, 'libvirt-sock');
  const roSocket = join(dir, 'libvirt-sock-ro');
  await server.listenUnix(socket, { mode: 0o700, auth: opts.rwAuth ?? 'none' });
  await server.listenUnix(roSocket, { mode: 0o777, readonly: true });
  return {
    server,
    dir,
    socket,
    roSocket,
    uri: (driver = 'test', path = '/default', ro = false) => `${driver}+unix://${path}?socket=${ro ? roSocket : socket}`,
    logs,
    identities,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A hand-driven protocol client: raw frames out, decoded messages in. */
export interface RawConn {
  sock: net.Socket;
  send(frame: Buffer): void;
  /** A CALL of the remote program. */
  call<N extends keyof P.ProcedureTypes>(proc: N, args: P.ProcedureTypes[N]['args'], serial: number): void;
  /** The next message, or null if the connection closed first. */
  next(ms?: number): Promise<{ header: MessageHeader; payload: Buffer } | null>;
  closed: Promise<void>;
  close(): void;
}

export function rawConnect(path: string): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path });
    const queue: { header: MessageHeader; payload: Buffer }[] = [];
    const waiters: ((m: { header: MessageHeader; payload: Buffer } | null) => void)[] = [];
    let ended = false;
    const reader = new FrameReader((f) => {
      const m = { header: decodeHeader(f), payload: Buffer.from(f.subarray(MESSAGE_HEADER_MAX)) };
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    sock.on('data', (c) => reader.push(c));
    const closed = new Promise<void>((r) =>
      sock.once('close', () => {
        ended = true;
        for (const w of waiters.splice(0)) w(null);
        r();
      }),
    );
    sock.on('error', () => {});
    sock.once('connect', () =>
      resolve({
        sock,
        send: (f) => sock.write(f),
        call: (proc, args, serial) =>
          sock.write(
            encodeMessage(
              { prog: P.REMOTE_PROGRAM, vers: 1, proc, type: MessageType.CALL, serial, status: MessageStatus.OK },
              P.procedures[proc]!.args,
              args,
            ),
          ),
        next: (ms = 5000) => {
          const m = queue.shift();
          if (m) return Promise.resolve(m);
          if (ended) return Promise.resolve(null);
          return new Promise((r, j) => {
            const t = setTimeout(() => j(new Error('no message in time')), ms);
            waiters.push((v) => {
              clearTimeout(t);
              r(v);
            });
          });
        },
        closed,
        close: () => sock.destroy(),
      }),
    );
    sock.once('error', reject);
  });
}

export { x };

// tsvirtd's RPC server: rpc's Server with the remote program on every connection. The daemon
// constructs it with its driver factory, then listens where its config says.
import { Server, type ServerOptions } from '../rpc/server.js';
import type { ServerConnection } from '../rpc/serverConnection.js';
import { RemoteSession, type RemoteProgramOptions } from './serverSession.js';

export interface RemoteServerOptions extends RemoteProgramOptions, Omit<ServerOptions, 'onConnection'> {
  /** Called after the remote program is attached to a new connection (e.g. to add programs). */
  onConnection?(conn: ServerConnection, session: RemoteSession): void;
}

export class RemoteServer extends Server {
  constructor(opts: RemoteServerOptions) {
    let next = 0;
    // Callback ids are daemon-wide, as libvirtd's are.
    const nextCallbackId = opts.nextCallbackId ?? (() => next++);
    super({
      ...opts,
      onConnection: (conn) => {
        const session = RemoteSession.attach(conn, { ...opts, nextCallbackId });
        opts.onConnection?.(conn, session);
      },
    });
  }
}

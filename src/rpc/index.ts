// The wire layer's public face (no drivers here): XDR, framing, connections, transports.
export * as xdr from './xdr.js';
export { XdrError, type Codec } from './xdr.js';
export * from './message.js';
export { FrameReader, FrameError } from './frameReader.js';
export { NetMessageError, netErrorToVirtError, virtErrorToNetError, rpcError } from './netError.js';
export { KeepAlive, PING_FRAME, PONG_FRAME, isKeepalive } from './keepalive.js';
export { RpcStream } from './stream.js';
export { RpcClient, CloseReason, type RpcClientOptions, type CallOptions } from './client.js';
export { ServerConnection, type ServerProgram, type Reply, type ClientIdentity, type ServerConnectionOptions } from './serverConnection.js';
export { Server, type ServerOptions, type ServerLimits, type ListenOptions, type UnixListenOptions, type TlsListenOptions } from './server.js';
export { connectUnix, connectTcp, connectTls, connectSsh, connectCommand, sshArgs, sshRemoteCommand, pkiFiles, type PkiFiles, type SshOptions } from './transport.js';
export { stderrLogger, silentLogger, type Logger } from './logger.js';

// The remote layer's public face: the client-side remote driver and tsvirtd's server core.
export { RemoteDriver, DrvFeature, type RemoteDriverOptions, type ReconnectOptions } from './remoteDriver.js';
export { RemoteServer, type RemoteServerOptions } from './remoteServer.js';
export { RemoteSession, type RemoteProgramOptions, type AccessRequest } from './serverSession.js';
export { remoteTarget, connectOpenName, defaultUnixSocket, type RemoteTarget, type RemoteTransport } from './remoteTarget.js';
export { Procedure, procedures, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, type ProcedureInfo, type ProcedureTypes } from './protocol.js';

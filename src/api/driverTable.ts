// Which driver serves a connection URI: the one table every driver is plugged into. The first row
// whose `accepts` says yes opens the connection; a driver is added with one row here. Rows load
// their driver lazily, so a program that only ever opens test:/// never loads the QEMU driver.
//
// Routing (README "Which driver a URI reaches"):
// - a URI with a host or a +transport (qemu+unix://, qemu+tcp://host, test+unix://, remote://)
//   → the remote driver; a unix transport without ?socket= goes to tsvirtd's socket when tsvirtd
//   is running, else to libvirt's usual socket;
// - qemu:///system and qemu:///session → tsvirtd's socket when it exists (/run/tsvirt/libvirt-sock,
//   read-only connections -sock-ro; $XDG_RUNTIME_DIR/tsvirt/libvirt-sock for a user's session),
//   else the QEMU driver in this process;
// - qemu:///embed?root=DIR and test:///… → always in this process.
// tsvirtd itself opens drivers with openInProcess(), which never routes (no loop to itself).
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { isRemoteURI, type ConnectURI } from '../drivers/connectUri.js';
import type { Driver } from '../drivers/driver.js';
import { runningDaemonSocket } from './daemonSocket.js';

export interface DriverOpenOptions {
  /** The URI as the caller gave it (after default resolution). */
  uri: string;
  /** Open read-only (VIR_CONNECT_RO): the driver may refuse to open otherwise-privileged state. */
  readonly: boolean;
}

export interface DriverEntry {
  /** Short name for messages and tests ('test', 'qemu', 'remote'). */
  name: string;
  accepts(u: ConnectURI): boolean;
  /** Opens the connection for a client of this library (may route to tsvirtd). */
  open(u: ConnectURI, opts: DriverOpenOptions): Promise<Driver>;
  /** Opens the driver in this process (absent for the remote row). */
  inProcess?(u: ConnectURI, opts: DriverOpenOptions): Promise<Driver>;
}

/** Local URIs (no host, no transport) of one scheme. */
function local(scheme: string): (u: ConnectURI) => boolean {
  return (u) => !isRemoteURI(u) && u.driver === scheme;
}

const notRoot = (): boolean => process.geteuid?.() !== 0;

/** The remote driver over a unix socket, reporting the URI the caller used. */
async function viaSocket(u: ConnectURI, socket: string, opts: DriverOpenOptions): Promise<Driver> {
  const [{ RemoteDriver }, { connectUnix }] = await Promise.all([import('../remote/remoteDriver.js'), import('../rpc/transport.js')]);
  return RemoteDriver.open(u, { readonly: opts.readonly, connect: () => connectUnix(socket) });
}

const openTestInProcess = async (u: ConnectURI, o: DriverOpenOptions): Promise<Driver> =>
  (await import('../drivers/test/index.js')).openTestDriver(u, o);

const openQemuInProcess = async (u: ConnectURI, o: DriverOpenOptions): Promise<Driver> =>
  (await import('../drivers/qemu/index.js')).openQemuDriverEntry(u, o);

export const driverTable: DriverEntry[] = [
  {
    name: 'test',
    accepts: local('test'),
    // test:/// is always in this process.
    open: openTestInProcess,
    inProcess: openTestInProcess,
  },
  {
    name: 'qemu',
    accepts: local('qemu'),
    open: async (u, o) => {
      if (u.path === '/system' || u.path === '/session') {
        // As libvirt's client: root's /session is the system instance too.
        const socket = runningDaemonSocket({ session: u.path === '/session' && notRoot(), readonly: o.readonly });
        if (socket) return viaSocket(u, socket, o);
      }
      return openQemuInProcess(u, o);
    },
    inProcess: openQemuInProcess,
  },
  {
    name: 'remote',
    accepts: isRemoteURI,
    open: async (u, o) => {
      const { RemoteDriver } = await import('../remote/remoteDriver.js');
      const local = u.host === null && (u.transport === 'unix' || u.transport === null);
      if (local && !u.params.some(([k]) => k === 'socket')) {
        const session = notRoot() && (u.path === '/session' || u.driver === 'test');
        const socket = runningDaemonSocket({ session, readonly: o.readonly });
        if (socket) return viaSocket(u, socket, o);
      }
      return RemoteDriver.open(u, { readonly: o.readonly });
    },
  },
];

/** The row that serves this URI, or undefined (NO_CONNECT). */
export function selectDriver(u: ConnectURI): DriverEntry | undefined {
  return driverTable.find((d) => d.accepts(u));
}

/**
 * Opens the driver for a URI in this process, never through a daemon (tsvirtd uses this for its
 * clients' connections). URIs only a remote connection can serve are NO_CONNECT.
 */
export async function openInProcess(u: ConnectURI, opts: DriverOpenOptions): Promise<Driver> {
  const entry = selectDriver(u);
  if (!entry?.inProcess) throw virtError(ErrorNumber.NO_CONNECT, ErrorDomain.NONE, opts.uri, { value: opts.uri });
  return entry.inProcess(u, opts);
}

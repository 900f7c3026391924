// Which driver serves a connection URI: the one table every driver is plugged into. The first row
// whose `accepts` says yes opens the connection; a driver is added with one row here. Rows load
// their driver lazily, so a program that only ever opens test:/// never loads the QEMU driver.
import { isRemoteURI, type ConnectURI } from '../drivers/connectUri.js';
import type { Driver } from '../drivers/driver.js';

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
  open(u: ConnectURI, opts: DriverOpenOptions): Promise<Driver>;
}

/** Local URIs (no host, no transport) of one scheme. */
function local(scheme: string): (u: ConnectURI) => boolean {
  return (u) => !isRemoteURI(u) && u.driver === scheme;
}

export const driverTable: DriverEntry[] = [
  {
    name: 'test',
    accepts: local('test'),
    open: async (u, o) => (await import('../drivers/test/index.js')).openTestDriver(u, o),
  },
  {
    name: 'qemu',
    accepts: local('qemu'),
    open: async (u, o) => (await import('../drivers/qemu/index.js')).openQemuDriverEntry(u, o),
  },
  // Remote URIs (a host or a +transport) → the remote driver (wired by the remote driver's helper).
];

/** The row that serves this URI, or undefined (NO_CONNECT). */
export function selectDriver(u: ConnectURI): DriverEntry | undefined {
  return driverTable.find((d) => d.accepts(u));
}

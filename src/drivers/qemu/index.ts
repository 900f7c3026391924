// The QEMU driver's entry point for the API's driver table.
import type { ConnectURI } from '../connectUri.js';
import type { Driver } from '../driver.js';
import { openQemuDriver as open } from './qemuDriver.js';

export { QemuDriver, openQemuDriver } from './qemuDriver.js';
export type { QemuDriverOptions } from './driverState.js';
export { qemuDirsForURI, type QemuDirs } from './qemuDirs.js';

export async function openQemuDriverEntry(uri: ConnectURI, opts: { readonly: boolean }): Promise<Driver> {
  return open(uri, opts);
}

// The test driver's entry point for the API's driver table.
import type { ConnectURI } from '../connectUri.js';
import type { Driver } from '../driver.js';
import { openTestDriver as open } from './testDriver.js';

export { TestDriver } from './testDriver.js';

export async function openTestDriver(uri: ConnectURI, _opts: { readonly: boolean }): Promise<Driver> {
  return open(uri);
}

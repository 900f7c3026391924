// open(uri, {readonly}) → Connection: resolves the default URI, picks the driver from the table
// in driverTable.ts and opens it.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { parseConnectURI } from '../drivers/connectUri.js';
import { Connection } from './connection.js';
import { selectDriver } from './driverTable.js';

export interface OpenOptions {
  /** VIR_CONNECT_RO: every call that changes something is refused. */
  readonly?: boolean;
}

/**
 * The URI a connection opens when none is given, as libvirt: LIBVIRT_DEFAULT_URI, else the local
 * QEMU driver (system instance for root, session instance otherwise).
 */
export function defaultURI(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LIBVIRT_DEFAULT_URI;
  if (fromEnv && fromEnv.trim() !== '') return fromEnv;
  return process.getuid?.() === 0 ? 'qemu:///system' : 'qemu:///session';
}

/** virConnectOpen / virConnectOpenReadOnly. */
export async function open(uri?: string | null, opts: OpenOptions = {}): Promise<Connection> {
  const name = uri && uri !== '' ? uri : defaultURI();
  const parsed = parseConnectURI(name);
  const entry = selectDriver(parsed);
  if (!entry) throw virtError(ErrorNumber.NO_CONNECT, ErrorDomain.NONE, name, { value: name });
  const readonly = opts.readonly ?? false;
  const driver = await entry.open(parsed, { uri: name, readonly });
  return new Connection(driver, { readonly, uri: name });
}

/** virConnectOpenReadOnly */
export function openReadOnly(uri?: string | null): Promise<Connection> {
  return open(uri, { readonly: true });
}

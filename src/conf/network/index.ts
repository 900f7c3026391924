// Network XML: parse, format, validate (libvirt's formatnetwork), and the status form libvirt
// keeps for a running network (<networkstatus>).
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { parseXml, type XmlElement } from '../xml/xmlTree.js';
import { XmlWriter } from '../xml/xmlWriter.js';
import { parseBitmap } from '../bitmap.js';
import { plainReader, strToUInt, strToULongLong } from '../xmlProps.js';
import type { NetworkDef, NetworkStatus, NetworkTaint } from './networkDef.js';
import { writeNetworkElement, writeNetworkStatus } from './networkFormat.js';
import { parseNetworkElement } from './networkParse.js';
import { validateNetworkSchema } from './networkSchema.js';
import type { NetworkDefineContext, NetworkDriverDefaults } from './networkDriverDefaults.js';

export * from './networkDef.js';
export { DNSMASQ_NAMESPACE, parseDhcpHost, sanitizeMetadata } from './networkParse.js';
export { formatBitmap, parseBitmap } from '../bitmap.js';
export { NETWORK_RNG, validateNetworkSchema } from './networkSchema.js';
export * from './networkDriverDefaults.js';
export * from './socketAddr.js';
export * from './pciAddress.js';
export * from './networkAssignDef.js';
export { writeNetworkElement, writeNetworkStatus } from './networkFormat.js';
export { parseNetworkElement } from './networkParse.js';

export interface ParseNetworkXMLOptions {
  /** VIR_NETWORK_DEFINE_VALIDATE / VIR_NETWORK_CREATE_VALIDATE: check against network.rng first. */
  validate?: boolean;
  /**
   * Read a status file: <networkstatus> (class ids, floor sum, taints) around the live
   * definition, whose live-only data (connections) is kept. A bare <network> is accepted too.
   */
  status?: boolean;
  /** Read <dnsmasq:options> (the network driver registers that namespace; the test driver does not). */
  dnsmasqNamespace?: boolean;
  /**
   * The defining driver's rules, applied after parsing a definition (not a status file): its
   * namespace, defaults and refusals (testDriverNetworkDefaults, networkDriverNetworkDefaults).
   */
  driver?: NetworkDriverDefaults;
  /** Host facts the driver's rules need (bridge names in use, existing devices). */
  defineContext?: NetworkDefineContext;
}

export interface FormatNetworkXMLOptions {
  /** VIR_NETWORK_XML_INACTIVE */
  inactive?: boolean;
  /** Write the status file form (<networkstatus>); needs def.status or uses the initial state. */
  status?: boolean;
}

/** libvirt's state of a network that has just started: class ids 0-2 taken, no floors. */
export function initialNetworkStatus(): NetworkStatus {
  return { classId: [0, 1, 2], floorSum: 0n, taint: [] };
}

/** tc class ids are the 16-bit minor of "1:<id>". */
const TC_CLASS_ID_LIMIT = 0x10000;

const TAINTS: readonly NetworkTaint[] = ['hook-script'];

function parseStatus(root: XmlElement): NetworkStatus {
  const status = initialNetworkStatus();
  const classEl = plainReader.child(root, 'class_id');
  const bitmap = classEl?.attrs.bitmap;
  if (bitmap !== undefined && bitmap !== '') status.classId = parseBitmap(bitmap, TC_CLASS_ID_LIMIT);
  const floor = plainReader.child(root, 'floor')?.attrs.sum;
  if (floor !== undefined && floor !== '') {
    const v = strToULongLong(floor, 10);
    if (v === undefined) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `Malformed 'floor_sum' attribute: ${floor}`, { element: 'floor', value: floor });
    status.floorSum = v;
  }
  for (const t of plainReader.children(root, 'taint')) {
    const flag = t.attrs.flag;
    if (flag === undefined) continue;
    if (!TAINTS.includes(flag as NetworkTaint)) {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NETWORK, `Unknown taint flag ${flag}`, { element: 'taint', value: flag });
    }
    if (!status.taint.includes(flag as NetworkTaint)) status.taint.push(flag as NetworkTaint);
  }
  return status;
}

/** Reads the live-only counters libvirt prints but never parses (tsvirt keeps them in status). */
function parseConnections(net: XmlElement, def: NetworkDef): void {
  const c = net.attrs.connections !== undefined ? strToUInt(net.attrs.connections, 10) : undefined;
  if (c) def.connections = c;
  const fwd = plainReader.child(net, 'forward');
  if (!fwd || !def.forward) return;
  for (const ifEl of plainReader.children(fwd, 'interface')) {
    const n = ifEl.attrs.connections !== undefined ? strToUInt(ifEl.attrs.connections, 10) : undefined;
    const entry = def.forward.interface.find((i) => i.dev === ifEl.attrs.dev);
    if (n && entry) entry.connections = n;
  }
}

/**
 * Parses network XML as virNetworkDefParse does: well-formedness errors are XML_DETAIL from the
 * NETWORK domain with the line and a caret, semantic errors carry libvirt's codes and messages.
 * Unknown elements and attributes are ignored unless `validate` is set.
 */
export function parseNetworkXML(xml: string, opts: ParseNetworkXMLOptions = {}): NetworkDef {
  const root = parseXml(xml, { url: '(network_definition)', errorDomain: ErrorDomain.NETWORK });
  let net = root;
  let status: NetworkStatus | undefined;
  if (opts.status && root.name === 'networkstatus') {
    const inner = plainReader.child(root, 'network');
    if (!inner) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, "Could not find any 'network' element in status file");
    net = inner;
    status = parseStatus(root);
  } else if (root.name !== 'network') {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `expecting root element of 'network', not '${root.name}'`, { element: root.name });
  }
  if (opts.validate) validateNetworkSchema(net);
  const def = parseNetworkElement(net, { dnsmasqNamespace: opts.dnsmasqNamespace ?? opts.driver?.dnsmasqNamespace });
  if (opts.status) {
    parseConnections(net, def);
    def.status = status ?? initialNetworkStatus();
  } else if (opts.driver) {
    opts.driver.postParse(def, opts.defineContext ?? { bridgeInUse: () => false });
  }
  return def;
}

/** Formats a definition as `virsh net-dumpxml` prints it, or the status file with `status`. */
export function formatNetworkXML(def: NetworkDef, opts: FormatNetworkXMLOptions = {}): string {
  if (opts.status) return writeNetworkStatus(def, def.status ?? initialNetworkStatus());
  const w = new XmlWriter();
  writeNetworkElement(w, def, { inactive: opts.inactive });
  return w.toString();
}

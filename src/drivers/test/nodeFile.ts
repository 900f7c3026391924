// libvirt's test-driver node file (docs/drvtest): a <node> document describing the host (<cpu>,
// <memory>) and the objects a fresh connection starts with (<domain>, <network>, <pool>, …), each
// inline or as `file='rel/or/abs.xml'` resolved against the node file's directory. Domains may
// carry test-namespace elements: <test:runstate>N</test:runstate>, <test:transient/>,
// <test:hasmanagedsave/>.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { child, children, isElement, parseXml, textOf, type XmlElement } from '../../conf/xml/xmlTree.js';
import { serializeLibxml } from '../../conf/xml/xmlWriter.js';
import type { NodeInfo } from '../driver.js';
import { DomainState } from '../constants.js';

/** xmlns of the test driver's domain extensions. */
const TEST_NS = 'http://libvirt.org/schemas/domain/test/1.0';

export interface NodeDomainSpec {
  /** The <domain> document without its test-namespace elements. */
  xml: string;
  runstate: number;
  transient: boolean;
  hasManagedSave: boolean;
}

export interface NodePoolSpec {
  name: string;
  uuid: string;
  type: string;
}

export interface NodeSpec {
  nodeInfo: NodeInfo;
  domains: NodeDomainSpec[];
  networks: string[];
  pools: NodePoolSpec[];
}

/** virNodeInfo of libvirt's test driver before a node file overrides any of it. */
export const defaultNodeInfo: Readonly<NodeInfo> = {
  model: 'i686',
  memory: 3 * 1024 * 1024,
  cpus: 16,
  mhz: 1400,
  nodes: 2,
  sockets: 2,
  cores: 2,
  threads: 2,
};

function xmlError(detail: string) {
  return virtError(ErrorNumber.XML_ERROR, ErrorDomain.TEST, detail);
}

/** Reads and parses a node file (test:///ABS/FILE.xml). */
export function readNodeFile(path: string): NodeSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw xmlError(`failed to parse xml document '${path}'`);
  }
  return parseNodeXML(text, path);
}

/** Parses a node document; `file` (if any) is what relative file= references are resolved against. */
export function parseNodeXML(text: string, file: string | null): NodeSpec {
  const root = parseXml(text, { url: file ?? '(test driver)', errorDomain: ErrorDomain.TEST });
  if (root.name !== 'node') throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `expecting root element of 'node', not '${root.name}'`);
  const prefixes = testPrefixes(root);
  return {
    nodeInfo: parseNodeInfo(root),
    domains: children(root, 'domain').map((el) => domainSpec(resolve(el, file, 'domain'), prefixes)),
    networks: children(root, 'network').map((el) => `${serializeLibxml(resolve(el, file, 'network'), 0)}\n`),
    pools: children(root, 'pool').map((el) => poolSpec(resolve(el, file, 'pool'))),
  };
}

/** An element given inline, or by file= (relative to the node file's directory). */
function resolve(el: XmlElement, file: string | null, what: string): XmlElement {
  const ref = el.attrs.file;
  if (ref === undefined) return el;
  const abs = isAbsolute(ref) || !file ? ref : join(dirname(file), ref);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw xmlError(`failed to parse xml document '${abs}'`);
  }
  const doc = parseXml(text, { url: abs, errorDomain: ErrorDomain.TEST });
  if (doc.name !== what) throw xmlError(`expecting root element of '${what}', not '${doc.name}'`);
  return doc;
}

function numberAt(root: XmlElement, path: string[], what: string): number | undefined {
  let el: XmlElement | undefined = root;
  for (const p of path) el = el && child(el, p);
  if (!el) return undefined;
  const s = textOf(el).trim();
  if (!/^[+-]?\d+$/.test(s)) throw xmlError(`invalid node ${what} value`);
  return Number(s);
}

function parseNodeInfo(root: XmlElement): NodeInfo {
  const info: NodeInfo = { ...defaultNodeInfo };
  info.nodes = numberAt(root, ['cpu', 'nodes'], 'cpu nodes') ?? info.nodes;
  info.sockets = numberAt(root, ['cpu', 'sockets'], 'cpu sockets') ?? info.sockets;
  info.cores = numberAt(root, ['cpu', 'cores'], 'cpu cores') ?? info.cores;
  info.threads = numberAt(root, ['cpu', 'threads'], 'cpu threads') ?? info.threads;
  info.cpus = info.cores * info.threads * info.sockets * info.nodes;
  const active = numberAt(root, ['cpu', 'active'], 'cpu active');
  if (active !== undefined && active < info.cpus) info.cpus = active;
  info.mhz = numberAt(root, ['cpu', 'mhz'], 'cpu mhz') ?? info.mhz;
  const cpu = child(root, 'cpu');
  const model = cpu && child(cpu, 'model');
  if (model) {
    const m = textOf(model);
    if (m.length >= 32) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.TEST, `Model ${m} too big for destination`);
    info.model = m;
  }
  info.memory = numberAt(root, ['memory'], 'memory') ?? info.memory;
  return info;
}

/** Prefixes bound to the test namespace anywhere on the way down (root declarations are inherited). */
function testPrefixes(el: XmlElement, inherited: Set<string> = new Set()): Set<string> {
  const out = new Set(inherited);
  for (const [k, v] of Object.entries(el.attrs)) if (k.startsWith('xmlns:') && v === TEST_NS) out.add(k.slice(6));
  return out;
}

function domainSpec(el: XmlElement, rootPrefixes: Set<string>): NodeDomainSpec {
  const prefixes = testPrefixes(el, rootPrefixes);
  const ext = (local: string): XmlElement | undefined =>
    children(el).find((c) => prefixes.has(c.name.split(':')[0]!) && c.name.endsWith(`:${local}`));
  const runEl = ext('runstate');
  let runstate: number = DomainState.RUNNING;
  if (runEl) {
    const s = textOf(runEl).trim();
    if (!/^\d+$/.test(s)) throw xmlError('invalid runstate');
    runstate = Number(s);
    if (runstate >= 8) throw xmlError(`runstate '${runstate}' out of range'`);
  }
  const transient = ext('transient') !== undefined;
  const hasManagedSave = ext('hasmanagedsave') !== undefined;
  if (transient && runstate === DomainState.SHUTOFF) throw xmlError("transient domain cannot have runstate 'shutoff'");
  if (hasManagedSave && runstate !== DomainState.SHUTOFF) {
    throw xmlError("domain with managedsave data can only have runstate 'shutoff'");
  }
  // The domain parser sees the document without the test driver's own elements.
  const stripped: XmlElement = {
    ...el,
    attrs: Object.fromEntries(Object.entries(el.attrs).filter(([k, v]) => !(k.startsWith('xmlns:') && v === TEST_NS))),
    children: el.children.filter((c) => !(isElement(c) && prefixes.has(c.name.split(':')[0]!))),
  };
  return { xml: `${serializeLibxml(stripped, 0)}\n`, runstate, transient, hasManagedSave };
}

function poolSpec(el: XmlElement): NodePoolSpec {
  const name = child(el, 'name');
  const uuid = child(el, 'uuid');
  if (!name) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.STORAGE, 'missing pool source name element');
  return {
    name: textOf(name).trim(),
    uuid: uuid ? textOf(uuid).trim().toLowerCase() : crypto.randomUUID(),
    type: el.attrs.type ?? 'dir',
  };
}

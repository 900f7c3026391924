// The status file of a running domain, <runDir>/qemu/NAME.xml, written atomically at every state
// change: what a restarted driver needs to find the guest again and to undo its host changes.
// libvirt's shape (<domstatus state reason pid> around the live <domain>), with tsvirt's own
// elements for what libvirt keeps elsewhere:
//
//   <domstatus state='running' reason='booted' pid='1234' starttime='5678'>
//     <monitor path='…/monitor.sock' type='unix'/>
//     <runtime dir='…' log='…' logstart='…'/>
//     <console alias='serial0' path='/dev/pts/3' type='pty'/>
//     <disknodes alias='virtio-disk0' storage='libvirt-1-storage' format='libvirt-1-format'/>
//     <hostnet mac='52:54:00:…' alias='net0' type='ethernet'>
//       <created kind='tap' name='vnet0'/> <bandwidth dev='vnet0'/> …
//     </hostnet>
//     <domain type='qemu' id='1'>…</domain>
//   </domstatus>
import { promises as fs } from 'node:fs';
import type { DomainDef, DomainDriverDefaults } from '../../conf/domain/index.js';
import { formatDomainXML, parseDomainElement } from '../../conf/domain/index.js';
import { isElement, parseXml, type XmlElement } from '../../conf/xml/xmlTree.js';
import { XmlWriter } from '../../conf/xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { writeFileAtomic } from '../../host/atomicFile.js';
import type { NetHostRecord } from './interfaceHost.js';

export interface DomainStatus {
  state: number;
  reason: number;
  pid: number;
  startTime: number;
  monitorPath: string;
  /** The domain's runtime directory (sockets). */
  dir: string;
  logFile: string;
  logStart: number;
  /** Console endpoints by chardev alias: a pty slave or a unix socket QEMU listens on. */
  consoles: { alias: string; path: string; type: 'pty' | 'unix' }[];
  /** Block node names by disk alias, and the next node number for a hotplugged disk. */
  diskNodes: [string, { storage: string; format: string }][];
  nextNodeIndex: number;
  /** The guest asked to power off (QMP SHUTDOWN from the guest): its exit is a shutdown, not a crash. */
  gotShutdown: boolean;
  net: NetHostRecord[];
  def: DomainDef;
}

// libvirt's state names in status files.
const STATE_NAMES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];

export function formatDomainStatus(s: DomainStatus, driver: DomainDriverDefaults): string {
  const w = new XmlWriter();
  w.open('domstatus', {
    state: STATE_NAMES[s.state] ?? 'nostate',
    reason: s.reason,
    pid: s.pid,
    starttime: s.startTime,
    gotshutdown: s.gotShutdown ? 'yes' : undefined,
  });
  w.empty('monitor', { path: s.monitorPath, type: 'unix' });
  w.empty('runtime', { dir: s.dir, log: s.logFile, logstart: s.logStart, nextnode: s.nextNodeIndex });
  for (const c of s.consoles) w.empty('console', { alias: c.alias, path: c.path, type: c.type });
  for (const [alias, n] of s.diskNodes) w.empty('disknodes', { alias, storage: n.storage, format: n.format });
  for (const r of s.net) {
    w.element('hostnet', { mac: r.mac, alias: r.alias, type: r.type }, (c) => {
      if (r.created) c.empty('created', { kind: r.created.kind, name: r.created.name });
      if (r.opened) c.empty('opened', { name: r.opened });
      if (r.bandwidthOn) c.empty('bandwidth', { dev: r.bandwidthOn });
      if (r.upAtStart) c.empty('upatstart', { dev: r.upAtStart });
      if (r.downscript) c.empty('downscript', { path: r.downscript });
      if (r.networkPort) c.empty('port', { network: r.networkPort.network, uuid: r.networkPort.uuid });
      if (r.hostdev) c.empty('hostdev', { address: r.hostdev.address, managed: r.hostdev.managed ? 'yes' : 'no' });
      if (r.passthrough) c.empty('passthrough', { linkdev: r.passthrough.linkdev });
    });
  }
  const domXml = formatDomainXML(s.def, { status: true, driver, id: s.def.id });
  // Not re-indented: text content (a description) must come back unchanged.
  w.raw(domXml);
  w.close('domstatus');
  return w.toString();
}

function bad(path: string, why: string): Error {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `invalid status file '${path}': ${why}`, { value: path });
}

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c): c is XmlElement => isElement(c) && c.name === name);
}

function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => isElement(c) && c.name === name);
}

function num(v: string | undefined, path: string, what: string): number {
  if (v === undefined || !/^\d+$/.test(v)) throw bad(path, `missing or bad ${what}`);
  return Number(v);
}

export function parseDomainStatus(text: string, path: string, driver: DomainDriverDefaults): DomainStatus {
  const root = parseXml(text, { url: path, errorDomain: ErrorDomain.QEMU });
  if (root.name !== 'domstatus') throw bad(path, `root element is <${root.name}>`);
  const state = STATE_NAMES.indexOf(root.attrs.state ?? '');
  if (state < 0) throw bad(path, `unknown state '${root.attrs.state ?? ''}'`);
  const monitor = child(root, 'monitor');
  const runtime = child(root, 'runtime');
  const domEl = child(root, 'domain');
  if (!monitor?.attrs.path || !runtime?.attrs.dir || !domEl) throw bad(path, 'missing <monitor>, <runtime> or <domain>');
  const net: NetHostRecord[] = children(root, 'hostnet').map((h) => {
    const r: NetHostRecord = { mac: h.attrs.mac ?? '', type: h.attrs.type ?? '' };
    if (h.attrs.alias) r.alias = h.attrs.alias;
    const created = child(h, 'created');
    if (created?.attrs.name && (created.attrs.kind === 'tap' || created.attrs.kind === 'macvtap')) {
      r.created = { kind: created.attrs.kind, name: created.attrs.name };
    }
    const opened = child(h, 'opened')?.attrs.name;
    if (opened) r.opened = opened;
    const bw = child(h, 'bandwidth')?.attrs.dev;
    if (bw) r.bandwidthOn = bw;
    const up = child(h, 'upatstart')?.attrs.dev;
    if (up) r.upAtStart = up;
    const ds = child(h, 'downscript')?.attrs.path;
    if (ds) r.downscript = ds;
    const port = child(h, 'port');
    if (port?.attrs.network && port.attrs.uuid) r.networkPort = { network: port.attrs.network, uuid: port.attrs.uuid };
    const hd = child(h, 'hostdev');
    if (hd?.attrs.address) r.hostdev = { address: hd.attrs.address, managed: hd.attrs.managed === 'yes' };
    const pt = child(h, 'passthrough')?.attrs.linkdev;
    if (pt) r.passthrough = { linkdev: pt };
    return r;
  });
  const def = parseDomainElement(domEl, { live: true, driver });
  return {
    state,
    reason: num(root.attrs.reason, path, 'reason'),
    pid: num(root.attrs.pid, path, 'pid'),
    startTime: num(root.attrs.starttime, path, 'starttime'),
    monitorPath: monitor.attrs.path,
    dir: runtime.attrs.dir,
    logFile: runtime.attrs.log ?? '',
    logStart: Number(runtime.attrs.logstart ?? 0) || 0,
    consoles: children(root, 'console')
      .filter((c) => c.attrs.alias && c.attrs.path)
      .map((c) => ({ alias: c.attrs.alias!, path: c.attrs.path!, type: c.attrs.type === 'pty' ? ('pty' as const) : ('unix' as const) })),
    diskNodes: children(root, 'disknodes')
      .filter((c) => c.attrs.alias && c.attrs.storage && c.attrs.format)
      .map((c) => [c.attrs.alias!, { storage: c.attrs.storage!, format: c.attrs.format! }] as [string, { storage: string; format: string }]),
    nextNodeIndex: Number(runtime.attrs.nextnode ?? 1) || 1,
    gotShutdown: root.attrs.gotshutdown === 'yes',
    net,
    def,
  };
}

export async function writeDomainStatus(path: string, s: DomainStatus, driver: DomainDriverDefaults): Promise<void> {
  await writeFileAtomic(path, formatDomainStatus(s, driver), 0o600);
}

export async function removeDomainStatus(path: string): Promise<void> {
  await fs.rm(path, { force: true });
}

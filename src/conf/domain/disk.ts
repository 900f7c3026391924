// <disk>: a block device given to the guest (disk, cdrom, floppy, lun) with its storage source
// (file, block, dir, network, volume), driver tuning, target and I/O limits.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { normalizeUuid } from '../uuid.js';
import { strToUIntP, strToULongLongP } from '../xmlProps.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { STARTUP_POLICIES } from './hostdev.js';
import { ParseContext, internalError, onOff, unsupported, xmlError, yesNo } from './parseContext.js';
import { parseScaledElement } from './units.js';
import { parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

export const STORAGE_TYPES = ['none', 'file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'] as const;
export type StorageType = Exclude<(typeof STORAGE_TYPES)[number], 'none'>;
export const DISK_DEVICES = ['disk', 'cdrom', 'floppy', 'lun'] as const;
export const DISK_BUSES = ['none', 'ide', 'fdc', 'scsi', 'virtio', 'xen', 'usb', 'uml', 'sata', 'sd'] as const;
export type DiskBus = Exclude<(typeof DISK_BUSES)[number], 'none'>;
export const DISK_CACHE = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
export const DISK_ERROR_POLICY = ['default', 'stop', 'report', 'ignore', 'enospace'] as const;
export const DISK_IO = ['default', 'native', 'threads', 'io_uring'] as const;
export const DISK_DISCARD = ['default', 'unmap', 'ignore'] as const;
export const DISK_DETECT_ZEROES = ['default', 'off', 'on', 'unmap'] as const;
export const DISK_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
export const SNAPSHOT_LOCATIONS = ['default', 'no', 'internal', 'external', 'manual'] as const;
export const STORAGE_FORMATS = [
  'none', 'raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop', 'cow', 'qcow', 'qcow2', 'qed', 'vmdk',
] as const;
export const NET_PROTOCOLS = ['none', 'nbd', 'rbd', 'sheepdog', 'gluster', 'iscsi', 'http', 'https', 'ftp', 'ftps', 'tftp', 'ssh', 'vxhs', 'nfs'] as const;
const HOST_TRANSPORTS = ['tcp', 'unix', 'rdma'] as const;
const TRAY = ['closed', 'open'] as const;
const SGIO = ['default', 'filtered', 'unfiltered'] as const;
const GEOMETRY_TRANS = ['default', 'none', 'auto', 'lba'] as const;
const POOL_MODES = ['default', 'host', 'direct'] as const;
const AUTH_TYPES = ['none', 'chap', 'ceph'] as const;

const IOTUNE_FIELDS = [
  'total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec', 'write_iops_sec',
  'total_bytes_sec_max', 'read_bytes_sec_max', 'write_bytes_sec_max', 'total_iops_sec_max', 'read_iops_sec_max',
  'write_iops_sec_max', 'size_iops_sec', 'group_name', 'total_bytes_sec_max_length', 'read_bytes_sec_max_length',
  'write_bytes_sec_max_length', 'total_iops_sec_max_length', 'read_iops_sec_max_length', 'write_iops_sec_max_length',
] as const;
export type IotuneField = Exclude<(typeof IOTUNE_FIELDS)[number], 'group_name'>;

export interface NetworkHost {
  name?: string;
  port?: number;
  transport?: (typeof HOST_TRANSPORTS)[number];
  socket?: string;
}

export interface StorageAuth {
  type?: 'chap' | 'ceph';
  username: string;
  secret: { type?: string; uuid?: string; usage?: string };
}

/** The storage behind a disk (libvirt's virStorageSource). */
export interface StorageSource {
  type: StorageType;
  /** file/block/dir path (file=, dev=, dir=). */
  path?: string;
  fdgroup?: string;
  /** <driver type>: the image format. */
  format?: Exclude<(typeof STORAGE_FORMATS)[number], 'none'>;
  /** network */
  protocol?: Exclude<(typeof NET_PROTOCOLS)[number], 'none'>;
  /** network: name= (rbd 'pool/image', iscsi 'iqn…/lun'). */
  name?: string;
  query?: string;
  tls?: boolean;
  tlsHostname?: string;
  hosts?: NetworkHost[];
  snapshot?: string;
  configFile?: string;
  /** volume */
  pool?: string;
  volume?: string;
  mode?: 'host' | 'direct';
  /** nvme */
  nvme?: { managed?: boolean; namespace: bigint; address: { domain: number; bus: number; slot: number; function: number } };
  auth?: StorageAuth;
  /** live: source index. */
  index?: number;
  backingStore?: StorageSource | 'none';
  /** Backing store's own format (inside <backingStore><format/>). */
  metadataCacheMaxSize?: bigint;
}

export interface DiskDef extends DeviceInfo {
  device: (typeof DISK_DEVICES)[number];
  model?: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional';
  rawio?: boolean;
  sgio?: 'filtered' | 'unfiltered';
  snapshot?: Exclude<(typeof SNAPSHOT_LOCATIONS)[number], 'default'>;
  source: StorageSource;
  startupPolicy?: Exclude<(typeof STARTUP_POLICIES)[number], 'default'>;
  driver?: {
    name?: string;
    cache?: (typeof DISK_CACHE)[number];
    errorPolicy?: string;
    rerrorPolicy?: string;
    io?: string;
    ioeventfd?: boolean;
    eventIdx?: boolean;
    copyOnRead?: boolean;
    discard?: string;
    iothread?: number;
    detectZeroes?: string;
    queues?: number;
    queueSize?: number;
  } & VirtioOptions;
  /** <auth> given as a child of <disk> rather than of <source>. */
  authOnDisk?: boolean;
  backenddomain?: string;
  geometry?: { cyls?: number; heads?: number; secs?: number; trans?: string };
  blockio?: { logicalBlockSize?: number; physicalBlockSize?: number };
  target: { dev: string; bus?: DiskBus; tray?: 'open' | 'closed'; removable?: boolean; rotationRate?: number };
  iotune?: Partial<Record<IotuneField, bigint>> & { group_name?: string };
  readonly?: boolean;
  shareable?: boolean;
  transient?: { shareBacking?: boolean };
  serial?: string;
  wwn?: string;
  vendor?: string;
  product?: string;
}

function parseAuth(ctx: ParseContext, el: XmlElement): StorageAuth {
  const username = ctx.attr(el, 'username');
  if (!username) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.STORAGE, 'missing username for auth');
  const auth: StorageAuth = { username, secret: {} };
  const t = ctx.attr(el, 'type');
  if (t !== undefined) {
    if (!(AUTH_TYPES as readonly string[]).includes(t)) throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.STORAGE, `unknown auth type '${t}'`);
    if (t !== 'none') auth.type = t as 'chap' | 'ceph';
  }
  const sec = ctx.child(el, 'secret');
  if (!sec) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.STORAGE, 'Missing <secret> element in auth');
  const st = ctx.attr(sec, 'type');
  if (st !== undefined) auth.secret.type = st;
  const uuid = ctx.attr(sec, 'uuid');
  const usage = ctx.attr(sec, 'usage');
  if (uuid === undefined && usage === undefined) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NONE, 'missing secret uuid or usage attribute');
  if (uuid !== undefined && usage !== undefined) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NONE, 'either secret uuid or usage expected');
  if (uuid !== undefined) {
    const u = normalizeUuid(uuid);
    if (!u) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NONE, `invalid secret uuid '${uuid}'`);
    auth.secret.uuid = u;
  } else auth.secret.usage = usage!;
  return auth;
}

function formatAuth(w: XmlWriter, auth: StorageAuth): void {
  w.open('auth', { type: auth.type, username: auth.username });
  w.empty('secret', { type: auth.secret.type, uuid: auth.secret.uuid, usage: auth.secret.usage });
  w.close('auth');
}

function defaultPort(protocol: string): number {
  switch (protocol) {
    case 'http':
      return 80;
    case 'https':
      return 443;
    case 'ftp':
      return 21;
    case 'ftps':
      return 990;
    case 'tftp':
      return 69;
    case 'sheepdog':
      return 7000;
    case 'nbd':
      return 10809;
    case 'ssh':
      return 22;
    case 'iscsi':
      return 3260;
    case 'gluster':
      return 24007;
    case 'vxhs':
      return 9999;
    default:
      return 0;
  }
}

function parseHosts(ctx: ParseContext, el: XmlElement, protocol: string): NetworkHost[] {
  return ctx.children(el, 'host').map((h) => {
    const host: NetworkHost = {};
    const tr = ctx.attr(h, 'transport');
    if (tr !== undefined) {
      if (!(HOST_TRANSPORTS as readonly string[]).includes(tr)) throw unsupported(`unknown protocol transport type '${tr}'`);
      host.transport = tr as NetworkHost['transport'];
    }
    const socket = ctx.attr(h, 'socket');
    if (socket !== undefined) host.socket = socket;
    if (host.transport === 'unix' && socket === undefined) throw xmlError('missing socket for unix transport');
    if (host.transport !== 'unix' && socket !== undefined) throw xmlError(`transport '${tr ?? '(null)'}' does not support socket attribute`);
    if (host.transport !== 'unix') {
      const name = ctx.attr(h, 'name');
      if (!name) throw xmlError('missing name for host');
      host.name = name;
      const port = ctx.attr(h, 'port');
      if (port !== undefined) {
        const p = strToUIntP(port, 10);
        if (p === undefined || p > 65535) throw internalError(`failed to parse port number '${port}'`);
        host.port = p;
      }
    } else ctx.attr(h, 'name');
    if ((host.transport ?? 'tcp') === 'tcp' && !host.port) {
      const d = defaultPort(protocol);
      if (d) host.port = d;
    }
    return host;
  });
}

/** virDomainStorageSourceParse: the <source> of a disk or backing store; `src.type` is set. */
function parseStorageSource(ctx: ParseContext, el: XmlElement, src: StorageSource): void {
  switch (src.type) {
    case 'file': {
      const p = ctx.attr(el, 'file');
      const fd = ctx.attr(el, 'fdgroup');
      if (p) src.path = p;
      if (fd !== undefined) src.fdgroup = fd;
      break;
    }
    case 'block': {
      const p = ctx.attr(el, 'dev');
      if (p) src.path = p;
      break;
    }
    case 'dir': {
      const p = ctx.attr(el, 'dir');
      if (p) src.path = p;
      break;
    }
    case 'network': {
      const protocol = ctx.enumProp(el, 'protocol', NET_PROTOCOLS, { required: true })!;
      src.protocol = protocol as NonNullable<StorageSource['protocol']>;
      const name = ctx.attr(el, 'name');
      if (name === undefined && protocol !== 'nbd') throw xmlError('missing name for disk source');
      if (name !== undefined) {
        if ((protocol === 'gluster' || protocol === 'rbd') && (!name.includes('/') || name.startsWith('/'))) {
          throw xmlError(`can't split path '${name}' into pool name and image name`);
        }
        src.name = name;
      }
      const tls = ctx.boolProp(el, 'tls');
      if (tls !== undefined) src.tls = tls;
      const th = ctx.attr(el, 'tlsHostname');
      if (th !== undefined) src.tlsHostname = th;
      const snap = ctx.child(el, 'snapshot');
      const sn = snap ? ctx.attr(snap, 'name') : undefined;
      if (sn) src.snapshot = sn;
      const cfg = ctx.child(el, 'config');
      const cf = cfg ? ctx.attr(cfg, 'file') : undefined;
      if (cf) src.configFile = cf;
      if (protocol === 'http' || protocol === 'https') {
        const q = ctx.attr(el, 'query');
        if (q !== undefined) src.query = q;
      }
      const hosts = parseHosts(ctx, el, protocol);
      if (hosts.length) src.hosts = hosts;
      break;
    }
    case 'volume': {
      const pool = ctx.attr(el, 'pool');
      const volume = ctx.attr(el, 'volume');
      const mode = ctx.attr(el, 'mode');
      if (pool !== undefined || volume !== undefined || mode !== undefined) {
        if (!pool && !volume) return;
        if (!pool || !volume) throw xmlError("'pool' and 'volume' must be specified together for 'pool' type source");
        src.pool = pool;
        src.volume = volume;
        if (mode !== undefined) {
          const i = (POOL_MODES as readonly string[]).indexOf(mode);
          if (i <= 0) throw unsupported(`unknown source mode '${mode}' for volume type disk`);
          src.mode = mode as 'host' | 'direct';
        }
      }
      break;
    }
    case 'nvme': {
      const t = ctx.attr(el, 'type');
      if (!t) throw xmlError("missing 'type' attribute to disk source");
      if (t !== 'pci') throw xmlError(`unsupported source type '${t}'`);
      const ns = ctx.attr(el, 'namespace');
      if (ns === undefined) throw xmlError("missing 'namespace' attribute to disk source");
      const nsv = strToULongLongP(ns, 10);
      if (nsv === undefined) throw xmlError(`malformed namespace '${ns}'`);
      const managed = ctx.boolProp(el, 'managed');
      const a = ctx.child(el, 'address');
      if (!a) throw xmlError('NVMe disk source is missing address');
      const addr = {
        domain: ctx.uintProp(a, 'domain', 0) ?? 0,
        bus: ctx.uintProp(a, 'bus', 0) ?? 0,
        slot: ctx.uintProp(a, 'slot', 0) ?? 0,
        function: ctx.uintProp(a, 'function', 0) ?? 0,
      };
      ctx.attr(a, 'type');
      src.nvme = managed === undefined ? { namespace: nsv, address: addr } : { managed, namespace: nsv, address: addr };
      break;
    }
    default:
      break;
  }
  const auth = ctx.child(el, 'auth');
  if (auth) src.auth = parseAuth(ctx, auth);
}

function parseBackingStore(ctx: ParseContext, diskEl: XmlElement, src: StorageSource): void {
  const bs = ctx.child(diskEl, 'backingStore');
  if (!bs) return;
  const type = ctx.attr(bs, 'type');
  if (type === undefined) {
    src.backingStore = 'none';
    return;
  }
  if (!ctx.live) {
    // libvirt does not keep backing chains in inactive XML
    ctx.useSubtree(bs);
    return;
  }
  const i = (STORAGE_TYPES as readonly string[]).indexOf(type);
  if (i <= 0) throw xmlError(`unknown storage source type '${type}'`);
  const fmtEl = ctx.child(bs, 'format');
  const format = fmtEl ? ctx.attr(fmtEl, 'type') : undefined;
  if (!format) throw internalError('missing disk backing store format');
  const fi = (STORAGE_FORMATS as readonly string[]).indexOf(format);
  if (fi <= 0) throw xmlError(`unknown storage source format '${format}'`);
  const child: StorageSource = { type: type as StorageType, format: format as NonNullable<StorageSource['format']> };
  const index = ctx.attr(bs, 'index');
  if (index !== undefined) {
    const n = strToUIntP(index, 10);
    if (n === undefined) throw xmlError(`invalid storage source index '${index}'`);
    child.index = n;
  }
  const s = ctx.child(bs, 'source');
  if (!s) throw internalError('missing disk backing store source');
  parseStorageSource(ctx, s, child);
  parseBackingStore(ctx, bs, child);
  src.backingStore = child;
}

export function parseDisk(env: DeviceParseEnv, el: XmlElement): DiskDef {
  const { ctx } = env;
  const type = (ctx.enumProp(el, 'type', STORAGE_TYPES, { nonzero: true }) ?? 'file') as StorageType;
  const src: StorageSource = { type };
  const sourceEl = ctx.child(el, 'source');
  if (sourceEl) {
    parseStorageSource(ctx, sourceEl, src);
    if (ctx.live) {
      const idx = ctx.attr(sourceEl, 'index');
      if (idx !== undefined) {
        const n = strToUIntP(idx, 10);
        if (n === undefined) throw xmlError(`invalid disk index '${idx}'`);
        src.index = n;
      }
    }
  } else src.type = 'file';
  const def: DiskDef = { device: 'disk', source: src, target: { dev: '' } };
  if (ctx.child(el, 'readonly')) def.readonly = true;
  if (ctx.child(el, 'shareable')) def.shareable = true;
  const authEl = ctx.child(el, 'auth');
  if (authEl) {
    if (src.auth) throw unsupported('an <auth> definition already found for disk source');
    src.auth = parseAuth(ctx, authEl);
    def.authOnDisk = true;
  }
  parseBackingStore(ctx, el, src);

  def.device = ctx.enumProp(el, 'device', DISK_DEVICES) ?? 'disk';
  const model = ctx.enumProp(el, 'model', DISK_MODELS);
  if (model && model !== 'default') def.model = model;
  const snapshot = ctx.enumProp(el, 'snapshot', SNAPSHOT_LOCATIONS, { nonzero: true });
  if (snapshot) def.snapshot = snapshot as DiskDef['snapshot'];
  const rawio = ctx.boolProp(el, 'rawio');
  if (rawio !== undefined) def.rawio = rawio;
  const sgio = ctx.enumProp(el, 'sgio', SGIO, { nonzero: true });
  if (sgio) def.sgio = sgio as 'filtered' | 'unfiltered';
  if (sourceEl) {
    const sp = ctx.enumProp(sourceEl, 'startupPolicy', STARTUP_POLICIES, { nonzero: true });
    if (sp) def.startupPolicy = sp as DiskDef['startupPolicy'];
  }
  const target = ctx.child(el, 'target');
  if (target) {
    const dev = ctx.attr(target, 'dev');
    if (dev !== undefined) def.target.dev = dev;
    const bus = ctx.enumProp(target, 'bus', DISK_BUSES, { nonzero: true });
    if (bus) def.target.bus = bus as DiskBus;
    const tray = ctx.enumProp(target, 'tray', TRAY);
    if (tray) def.target.tray = tray;
    const rem = ctx.switchProp(target, 'removable');
    if (rem !== undefined) def.target.removable = rem;
    const rr = ctx.uintProp(target, 'rotation_rate');
    if (rr) def.target.rotationRate = rr;
  }
  const geo = ctx.child(el, 'geometry');
  if (geo) {
    const g: NonNullable<DiskDef['geometry']> = {};
    const c = ctx.uintProp(geo, 'cyls');
    const h = ctx.uintProp(geo, 'heads');
    const s = ctx.uintProp(geo, 'secs');
    const t = ctx.enumProp(geo, 'trans', GEOMETRY_TRANS, { nonzero: true });
    if (c) g.cyls = c;
    if (h) g.heads = h;
    if (s) g.secs = s;
    if (t) g.trans = t;
    def.geometry = g;
  }
  const bio = ctx.child(el, 'blockio');
  if (bio) {
    const b: NonNullable<DiskDef['blockio']> = {};
    const l = ctx.uintProp(bio, 'logical_block_size');
    const p = ctx.uintProp(bio, 'physical_block_size');
    if (l) b.logicalBlockSize = l;
    if (p) b.physicalBlockSize = p;
    def.blockio = b;
  }
  const drv = ctx.child(el, 'driver');
  if (drv) {
    const d: NonNullable<DiskDef['driver']> = { ...parseVirtioOptions(ctx, drv) };
    const name = ctx.attr(drv, 'name');
    if (name !== undefined) d.name = name;
    const cache = ctx.enumProp(drv, 'cache', DISK_CACHE);
    if (cache && cache !== 'default') d.cache = cache;
    const ep = ctx.enumProp(drv, 'error_policy', DISK_ERROR_POLICY, { nonzero: true });
    if (ep) d.errorPolicy = ep;
    const rp = ctx.enumProp(drv, 'rerror_policy', DISK_ERROR_POLICY, { nonzero: true });
    if (rp === 'enospace') throw unsupported("Invalid disk read error policy: 'enospace'");
    if (rp) d.rerrorPolicy = rp;
    const io = ctx.enumProp(drv, 'io', DISK_IO, { nonzero: true });
    if (io) d.io = io;
    const ioe = ctx.switchProp(drv, 'ioeventfd');
    if (ioe !== undefined) d.ioeventfd = ioe;
    const ei = ctx.switchProp(drv, 'event_idx');
    if (ei !== undefined) d.eventIdx = ei;
    const cor = ctx.switchProp(drv, 'copy_on_read');
    if (cor !== undefined) d.copyOnRead = cor;
    const disc = ctx.enumProp(drv, 'discard', DISK_DISCARD, { nonzero: true });
    if (disc) d.discard = disc;
    const it = ctx.uintProp(drv, 'iothread', 10, { nonzero: true });
    if (it) d.iothread = it;
    const dz = ctx.enumProp(drv, 'detect_zeroes', DISK_DETECT_ZEROES, { nonzero: true });
    if (dz) d.detectZeroes = dz;
    const q = ctx.uintProp(drv, 'queues');
    if (q) d.queues = q;
    const qs = ctx.uintProp(drv, 'queue_size');
    if (qs) d.queueSize = qs;
    const fmt = ctx.attr(drv, 'type');
    if (fmt !== undefined) {
      if (fmt === 'aio') src.format = 'raw';
      else {
        const i = (STORAGE_FORMATS as readonly string[]).indexOf(fmt);
        if (i <= 0) throw unsupported(`unknown driver format value '${fmt}'`, { element: 'disk/driver', attribute: 'type', value: fmt });
        src.format = fmt as NonNullable<StorageSource['format']>;
      }
    }
    const mc = ctx.child(drv, 'metadata_cache');
    if (mc) {
      const ms = ctx.child(mc, 'max_size');
      const bytes = parseScaledElement(ctx, ms, './metadata_cache/max_size', { scale: 1n, max: 0xffffffffffffffffn });
      if (bytes) src.metadataCacheMaxSize = bytes;
    }
    def.driver = d;
  }
  const mirror = ctx.child(el, 'mirror');
  if (mirror && !ctx.live) ctx.useSubtree(mirror);
  const tr = ctx.child(el, 'transient');
  if (tr) {
    const sb = ctx.boolProp(tr, 'shareBacking');
    def.transient = sb === undefined ? {} : { shareBacking: sb };
  }
  const iotune = ctx.child(el, 'iotune');
  if (iotune) def.iotune = parseIotune(ctx, iotune);
  const bd = ctx.child(el, 'backenddomain');
  const bdn = bd ? ctx.attr(bd, 'name') : undefined;
  if (bdn) def.backenddomain = bdn;
  for (const k of ['serial', 'wwn', 'vendor', 'product'] as const) {
    const v = ctx.childText(el, k);
    if (v) def[k] = v;
  }
  parseDeviceInfo(ctx, el, def, { allowBoot: true, userAlias: env.userAlias });
  return def;
}

function parseIotune(ctx: ParseContext, el: XmlElement): NonNullable<DiskDef['iotune']> {
  const out: NonNullable<DiskDef['iotune']> = {};
  for (const f of IOTUNE_FIELDS) {
    const t = ctx.childText(el, f);
    if (t === undefined || t === '') continue;
    if (f === 'group_name') {
      out.group_name = t;
      continue;
    }
    const v = strToULongLongP(t, 10);
    if (v === undefined) throw xmlError(`disk iotune field '${f}' must be an integer`);
    if (v) out[f] = v;
  }
  return out;
}

/** virDiskNameToIndex: 'vda' → 0, 'hdz' → 25, 'sdaa' → 26; -1 when not a disk name. */
export function diskNameToIndex(name: string): number {
  const m = /^(fd|hd|vd|sd|xvd|ubd)([a-z]+)([0-9]*)$/.exec(name);
  if (!m) return -1;
  let idx = 0;
  const letters = m[2]!;
  for (let i = 0; i < letters.length; i++) {
    idx = (idx + (i < 1 ? 0 : 1)) * 26;
    idx += letters.charCodeAt(i) - 97;
  }
  return idx;
}

/** virDomainDiskInsert: disks stay sorted by target name within a bus. */
export function insertDisk(list: DiskDef[], disk: DiskDef): void {
  let insertAt = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    const cur = list[i]!;
    if (cur.target.bus === disk.target.bus && cur.target.dev && disk.target.dev && diskNameToIndex(cur.target.dev) > diskNameToIndex(disk.target.dev)) {
      insertAt = i;
    } else if (cur.target.bus === disk.target.bus && insertAt === -1) {
      insertAt = i + 1;
    }
  }
  if (insertAt < 0) list.push(disk);
  else list.splice(insertAt, 0, disk);
}

/** virDomainDiskDefPostParse (the generic part) and virDomainDiskDefAssignAddress. */
export function postParseDisk(disk: DiskDef, scsiBusMaxUnit = 7): void {
  if (disk.target.dev.startsWith('ioemu:')) disk.target.dev = disk.target.dev.slice(6);
  if (disk.device === 'cdrom') disk.readonly = true;
  if (!disk.target.bus) {
    let bus: DiskBus = 'ide';
    const dst = disk.target.dev;
    if (disk.device === 'floppy') bus = 'fdc';
    else if (dst.startsWith('hd')) bus = 'ide';
    else if (dst.startsWith('sd')) bus = 'scsi';
    else if (dst.startsWith('vd')) bus = 'virtio';
    else if (dst.startsWith('xvd')) bus = 'xen';
    else if (dst.startsWith('ubd')) bus = 'uml';
    disk.target.bus = bus;
  }
  if (!disk.snapshot && disk.readonly) disk.snapshot = 'no';
  if (disk.source.type === 'network' && disk.source.protocol === 'iscsi' && disk.source.name && !disk.source.name.includes('/')) {
    disk.source.name = `${disk.source.name}/0`;
  }
  if (disk.source.type === 'nvme' && disk.source.nvme && disk.source.nvme.managed === undefined) disk.source.nvme.managed = true;
  if (disk.source.type === 'vhostuser' && !disk.snapshot) disk.snapshot = 'no';
  if (!disk.address && disk.target.dev) assignDiskAddress(disk, scsiBusMaxUnit);
}

function assignDiskAddress(disk: DiskDef, scsiBusMaxUnit: number): void {
  const idx = diskNameToIndex(disk.target.dev);
  if (idx < 0) throw xmlError(`Unknown disk name '${disk.target.dev}' and no address specified`);
  switch (disk.target.bus) {
    case 'scsi': {
      let controller: number;
      let unit: number;
      if (scsiBusMaxUnit > 7) {
        controller = Math.floor(idx / (scsiBusMaxUnit - 1));
        unit = idx % (scsiBusMaxUnit - 1);
        if (unit >= 7) unit++;
      } else {
        controller = Math.floor(idx / 7);
        unit = idx % 7;
      }
      disk.address = { type: 'drive', controller, bus: 0, target: 0, unit };
      break;
    }
    case 'ide':
      disk.address = { type: 'drive', controller: Math.floor(idx / 4), bus: Math.floor((idx % 4) / 2), target: 0, unit: idx % 2 };
      break;
    case 'sata':
      disk.address = { type: 'drive', controller: Math.floor(idx / 6), bus: 0, target: 0, unit: idx % 6 };
      break;
    case 'fdc':
      disk.address = { type: 'drive', controller: Math.floor(idx / 2), bus: 0, target: 0, unit: idx % 2 };
      break;
    default:
      break;
  }
}

function sourceIsEmpty(src: StorageSource): boolean {
  if (src.type === 'network') return src.protocol === undefined;
  if (src.type === 'volume') return !src.pool && !src.volume;
  if (src.type === 'nvme') return !src.nvme;
  return !src.path;
}

/** virDomainDiskDefValidate. */
export function validateDisk(disk: DiskDef): void {
  const dst = disk.target.dev;
  if (!dst) {
    if (disk.source.type === 'volume' && disk.source.pool) {
      throw virtError(ErrorNumber.NO_TARGET, ErrorDomain.DOMAIN, `pool = '${disk.source.pool}', volume = '${disk.source.volume}'`);
    }
    throw virtError(ErrorNumber.NO_TARGET, ErrorDomain.DOMAIN, disk.source.path);
  }
  if (disk.sgio === 'unfiltered') throw unsupported('unfiltered sgio is no longer supported');
  if (disk.device !== 'lun') {
    if (disk.rawio !== undefined) throw unsupported("rawio can be used only with device='lun'");
    if (disk.sgio) throw unsupported("sgio can be used only with device='lun'");
  }
  const t = disk.iotune ?? {};
  const both = (a: IotuneField, b: IotuneField, c: IotuneField, what: string): void => {
    if ((t[a] && t[b]) || (t[a] && t[c])) throw xmlError(`total and read/write ${what} cannot be set at the same time`);
  };
  both('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'bytes_sec');
  both('total_iops_sec', 'read_iops_sec', 'write_iops_sec', 'iops_sec');
  both('total_bytes_sec_max', 'read_bytes_sec_max', 'write_bytes_sec_max', 'bytes_sec_max');
  both('total_iops_sec_max', 'read_iops_sec_max', 'write_iops_sec_max', 'iops_sec_max');
  const bus = disk.target.bus ?? 'ide';
  const at = disk.address?.type;
  if (at && (bus === 'ide' || bus === 'fdc' || bus === 'scsi' || bus === 'sata') && at !== 'drive') {
    throw unsupported(`Invalid address type '${at}' for the disk '${dst}' with the bus type '${bus}'`);
  }
  if (bus !== 'virtio') {
    if (disk.model) throw unsupported(`disk model '${disk.model}' not supported for bus '${bus}'`);
    if (disk.driver?.queues) throw unsupported('queues attribute in disk driver element is only supported by virtio-blk');
    if (disk.driver?.eventIdx !== undefined) throw unsupported('disk event_idx mode supported only for virtio bus');
    if (disk.driver?.ioeventfd !== undefined) throw unsupported('disk ioeventfd mode supported only for virtio bus');
    for (const [k, name] of [['iommu', 'iommu'], ['ats', 'ats'], ['packed', 'packed'], ['pagePerVq', 'page_per_vq']] as const) {
      if (disk.driver?.[k] !== undefined) throw unsupported(`${name} driver option is only supported for virtio devices`);
    }
  }
  if (disk.source.type === 'nvme' && disk.source.nvme?.namespace === 0n) throw unsupported("NVMe namespace can't be zero");
  if (disk.target.tray && disk.device !== 'floppy' && disk.device !== 'cdrom') throw unsupported('tray is only valid for cdrom and floppy');
  if (disk.vendor) {
    if (!/^[\x20-\x7e]*$/.test(disk.vendor)) throw xmlError('disk vendor is not printable string');
    if (disk.vendor.length > 8) throw unsupported('disk vendor is more than 8 characters');
  }
  if (disk.product) {
    if (!/^[\x20-\x7e]*$/.test(disk.product)) throw xmlError('disk product is not printable string');
    if (disk.product.length > 16) throw unsupported('disk product is more than 16 characters');
  }
  if (disk.device === 'floppy' && bus !== 'fdc') throw internalError(`Invalid bus type '${bus}' for floppy disk`);
  if (disk.device !== 'floppy' && bus === 'fdc') throw internalError(`Invalid bus type '${bus}' for disk`);
  if (disk.target.removable !== undefined && bus !== 'usb') throw xmlError('removable is only valid for usb disks');
  if (disk.startupPolicy) {
    if (disk.device === 'disk' && disk.startupPolicy === 'requisite') {
      throw unsupported(`Setting disk 'requisite' is allowed only for cdrom or floppy`);
    }
    if (disk.source.type !== 'file' && disk.source.type !== 'volume') {
      throw unsupported(`Setting disk startupPolicy is only allowed for disks of type 'file' or 'volume'`);
    }
  }
  if (disk.wwn && !/^(0x)?[0-9a-fA-F]{16}$/.test(disk.wwn)) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NONE, 'Malformed wwn: ' + disk.wwn);
  if ((disk.device === 'disk' || disk.device === 'lun') && !/^(hd|sd|vd|xvd|ubd)/.test(dst)) {
    throw internalError(`Invalid harddisk device name: ${dst}`);
  }
  if (disk.device === 'floppy' && !dst.startsWith('fd')) throw internalError(`Invalid floppy device name: ${dst}`);
  if (sourceIsEmpty(disk.source) && disk.device === 'disk') throw virtError(ErrorNumber.NO_SOURCE, ErrorDomain.DOMAIN, dst);
}

// ---- format ----

function formatStorageSource(w: XmlWriter, src: StorageSource, policy: string | undefined, attrIndex: boolean, skipAuth: boolean): void {
  const attrs: Record<string, string | number | undefined> = {};
  let children: ((c: XmlWriter) => void) | undefined;
  switch (src.type) {
    case 'file':
      attrs.file = src.path;
      attrs.fdgroup = src.fdgroup;
      break;
    case 'block':
      attrs.dev = src.path;
      break;
    case 'dir':
      attrs.dir = src.path;
      break;
    case 'network':
      attrs.protocol = src.protocol;
      attrs.name = src.name;
      attrs.query = src.query;
      attrs.tls = yesNo(src.tls);
      attrs.tlsHostname = src.tlsHostname;
      children = (c) => {
        for (const h of src.hosts ?? []) c.empty('host', { name: h.name, port: h.port || undefined, transport: h.transport, socket: h.socket });
        if (src.snapshot) c.empty('snapshot', { name: src.snapshot });
        if (src.configFile) c.empty('config', { file: src.configFile });
      };
      break;
    case 'volume':
      attrs.pool = src.pool;
      attrs.volume = src.volume;
      attrs.mode = src.mode;
      break;
    case 'nvme':
      if (src.nvme) {
        const n = src.nvme;
        attrs.type = 'pci';
        attrs.managed = yesNo(n.managed);
        attrs.namespace = String(n.namespace);
        children = (c) =>
          c.empty('address', {
            domain: '0x' + n.address.domain.toString(16).padStart(4, '0'),
            bus: '0x' + n.address.bus.toString(16).padStart(2, '0'),
            slot: '0x' + n.address.slot.toString(16).padStart(2, '0'),
            function: `0x${n.address.function}`,
          });
      }
      break;
    default:
      break;
  }
  if (policy && src.type !== 'network') attrs.startupPolicy = policy;
  if (attrIndex && src.index) attrs.index = src.index;
  w.element('source', attrs, (c) => {
    children?.(c);
    if (src.auth && !skipAuth && src.type !== 'volume') formatAuth(c, src.auth);
  });
}

function formatBackingStore(w: XmlWriter, src: StorageSource, env: DeviceFormatEnv): void {
  const bs = src.backingStore;
  if (!bs) return;
  if (bs === 'none') {
    w.empty('backingStore');
    return;
  }
  if (env.inactive) return;
  w.open('backingStore', { type: bs.type, index: bs.index || undefined });
  w.empty('format', { type: bs.format });
  formatStorageSource(w, bs, undefined, false, false);
  formatBackingStore(w, bs, env);
  w.close('backingStore');
}

export function formatDisk(w: XmlWriter, disk: DiskDef, env: DeviceFormatEnv): void {
  const src = disk.source;
  const showSnapshot = disk.snapshot && !(disk.snapshot === 'no' && disk.readonly);
  w.open('disk', {
    type: src.type,
    device: disk.device,
    model: disk.model,
    rawio: yesNo(disk.rawio),
    sgio: disk.sgio,
    snapshot: showSnapshot ? disk.snapshot : undefined,
  });
  const d = disk.driver ?? {};
  w.element(
    'driver',
    {
      name: d.name,
      type: src.format,
      cache: d.cache,
      error_policy: d.errorPolicy,
      rerror_policy: d.rerrorPolicy,
      io: d.io,
      ioeventfd: onOff(d.ioeventfd),
      event_idx: onOff(d.eventIdx),
      copy_on_read: onOff(d.copyOnRead),
      discard: d.discard,
      iothread: d.iothread,
      detect_zeroes: d.detectZeroes,
      queues: d.queues,
      queue_size: d.queueSize,
      ...virtioOptionAttrs(d),
    },
    (c) => {
      if (src.metadataCacheMaxSize) {
        c.open('metadata_cache');
        c.text('max_size', src.metadataCacheMaxSize, { unit: 'bytes' });
        c.close('metadata_cache');
      }
    },
  );
  if (src.auth && disk.authOnDisk) formatAuth(w, src.auth);
  formatStorageSource(w, src, disk.startupPolicy, true, disk.authOnDisk === true);
  formatBackingStore(w, src, env);
  if (disk.backenddomain) w.empty('backenddomain', { name: disk.backenddomain });
  const g = disk.geometry;
  if (g && g.cyls && g.heads && g.secs) w.empty('geometry', { cyls: g.cyls, heads: g.heads, secs: g.secs, trans: g.trans });
  const b = disk.blockio;
  if (b && (b.logicalBlockSize || b.physicalBlockSize)) {
    w.empty('blockio', { logical_block_size: b.logicalBlockSize, physical_block_size: b.physicalBlockSize });
  }
  const t = disk.target;
  w.empty('target', {
    dev: t.dev,
    bus: t.bus ?? 'none',
    tray: (disk.device === 'floppy' || disk.device === 'cdrom') && t.tray === 'open' ? 'open' : undefined,
    removable: t.bus === 'usb' ? onOff(t.removable) : undefined,
    rotation_rate: t.rotationRate,
  });
  const it = disk.iotune;
  if (it) {
    w.element('iotune', undefined, (c) => {
      for (const f of IOTUNE_FIELDS) {
        if (f === 'group_name') {
          if (it.group_name) c.text('group_name', it.group_name);
        } else if (it[f]) c.text(f, it[f]);
      }
    });
  }
  if (disk.readonly) w.empty('readonly');
  if (disk.shareable) w.empty('shareable');
  if (disk.transient) w.empty('transient', { shareBacking: disk.transient.shareBacking ? 'yes' : undefined });
  w.text('serial', disk.serial);
  w.text('wwn', disk.wwn);
  w.text('vendor', disk.vendor);
  w.text('product', disk.product);
  formatDeviceInfo(w, disk, { allowBoot: true });
  w.close('disk');
}

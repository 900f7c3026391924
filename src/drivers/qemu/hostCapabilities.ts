// The QEMU driver's host capabilities (`virsh capabilities`): host facts read from /proc and
// /sys (CPU identity and topology, NUMA cells, page sizes, L3 caches, IOMMU) and one <guest>
// per emulator binary with its machine types and domain types, in libvirt 9.0's shape.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { hostArch } from '../../conf/domain/index.js';
import type { Capabilities, CacheBank, GuestCapabilities, GuestMachine, HostCapabilities, NumaCell } from '../../conf/capabilities/index.js';
import type { QemuCaps } from './capabilities.js';

/** What the host capabilities say about this machine, read by readHostFacts(). */
export interface HostFacts {
  uuid?: string;
  arch: string;
  cpu: {
    vendor?: string;
    microcode?: number;
    signature?: { family: number; model: number; stepping: number };
    topology?: { sockets: number; dies: number; cores: number; threads: number };
    physAddrBits?: number;
  };
  /** Page sizes in KiB: the base page, then each huge page size. */
  pageSizes: number[];
  iommu: boolean;
  cells: NumaCell[];
  caches: CacheBank[];
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function readInt(path: string): Promise<number | undefined> {
  const t = await readText(path);
  if (t === undefined) return undefined;
  const n = Number.parseInt(t.trim(), 10);
  return Number.isNaN(n) ? undefined : n;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await fs.readdir(path);
  } catch {
    return [];
  }
}

/** '0-3,8' → [0,1,2,3,8] (the kernel's cpulist format). */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map((x) => Number.parseInt(x, 10));
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

function uuidFromHex(hex: string): string | undefined {
  const h = hex.trim().toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(h) || /^(.)\1*$/.test(h)) return undefined;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface CpuTopo {
  id: number;
  socket: number;
  die: number;
  core: number;
  siblings: number[];
}

async function cpuTopology(root: string, id: number): Promise<CpuTopo> {
  const d = join(root, `sys/devices/system/cpu/cpu${id}/topology`);
  const siblings = await readText(join(d, 'thread_siblings_list'));
  return {
    id,
    socket: (await readInt(join(d, 'physical_package_id'))) ?? 0,
    die: (await readInt(join(d, 'die_id'))) ?? 0,
    core: (await readInt(join(d, 'core_id'))) ?? id,
    siblings: siblings ? parseCpuList(siblings) : [id],
  };
}

/**
 * Reads the host facts under `root` ('/' normally; a directory holding proc/ and sys/ in
 * tests). Missing files leave the fact out, as libvirt does.
 */
export async function readHostFacts(root = '/'): Promise<HostFacts> {
  const cpuinfo = (await readText(join(root, 'proc/cpuinfo'))) ?? '';
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const vendorId = field('vendor_id');
  const vendor = vendorId === 'AuthenticAMD' ? 'AMD' : vendorId === 'GenuineIntel' ? 'Intel' : vendorId;
  const family = field('cpu family');
  const model = field('model');
  const stepping = field('stepping');
  const microcode = field('microcode');
  const phys = /(\d+) bits physical/.exec(field('address sizes') ?? '');

  // present CPUs and their topology
  const present = parseCpuList((await readText(join(root, 'sys/devices/system/cpu/present'))) ?? '0');
  const topo = await Promise.all(present.map((id) => cpuTopology(root, id)));
  const byId = new Map(topo.map((t) => [t.id, t]));

  // NUMA cells; without /sys/devices/system/node, one cell with all memory and CPUs
  const nodeDir = join(root, 'sys/devices/system/node');
  const nodes = (await listDir(nodeDir))
    .map((n) => /^node(\d+)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const hugeSizes = (await listDir(join(root, 'sys/kernel/mm/hugepages')))
    .map((n) => /^hugepages-(\d+)kB$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const basePage = 4;
  const cells: NumaCell[] = [];
  const meminfoTotal = async (): Promise<number> => {
    const m = /^MemTotal:\s+(\d+) kB/m.exec((await readText(join(root, 'proc/meminfo'))) ?? '');
    return m ? Number(m[1]) : 0;
  };
  for (const n of nodes.length ? nodes : [0]) {
    const d = join(nodeDir, `node${n}`);
    let memory: number;
    if (nodes.length) {
      const m = /MemTotal:\s+(\d+) kB/.exec((await readText(join(d, 'meminfo'))) ?? '');
      memory = m ? Number(m[1]) : 0;
    } else memory = await meminfoTotal();
    const pages: NumaCell['pages'] = [];
    let hugeKiB = 0;
    const hugeCounts: { size: number; count: number }[] = [];
    for (const size of hugeSizes) {
      const count = nodes.length
        ? ((await readInt(join(d, `hugepages/hugepages-${size}kB/nr_hugepages`))) ?? 0)
        : ((await readInt(join(root, `sys/kernel/mm/hugepages/hugepages-${size}kB/nr_hugepages`))) ?? 0);
      hugeKiB += size * count;
      hugeCounts.push({ size, count });
    }
    // the base pages are what the huge pages leave
    pages.push({ size: basePage, count: Math.floor((memory - hugeKiB) / basePage) }, ...hugeCounts);
    const dist = nodes.length ? ((await readText(join(d, 'distance'))) ?? '').trim().split(/\s+/).filter(Boolean).map(Number) : [10];
    const cpuIds = nodes.length ? parseCpuList((await readText(join(d, 'cpulist'))) ?? '') : present;
    cells.push({
      id: n,
      memory,
      pages,
      distances: dist.map((value, i) => ({ id: nodes.length ? nodes[i]! : i, value })),
      cpus: cpuIds.map((id) => {
        const t = byId.get(id);
        return t ? { id, socketId: t.socket, dieId: t.die, coreId: t.core, siblings: t.siblings } : { id };
      }),
    });
  }

  // topology of the first NUMA cell's CPUs (virHostCPUGetInfo): sockets, dies, cores, threads
  let topology: HostFacts['cpu']['topology'];
  const firstCell = cells[0]?.cpus.map((c) => byId.get(c.id)).filter((t): t is CpuTopo => t !== undefined) ?? [];
  if (firstCell.length) {
    const sockets = new Set(firstCell.map((t) => t.socket)).size;
    const dies = new Set(firstCell.filter((t) => t.socket === firstCell[0]!.socket).map((t) => t.die)).size;
    const cores = new Set(firstCell.filter((t) => t.socket === firstCell[0]!.socket && t.die === firstCell[0]!.die).map((t) => t.core)).size;
    const threads = firstCell[0]!.siblings.length;
    topology = { sockets, dies, cores, threads };
  }

  // shared caches of level 3 and above, one bank per cache id (libvirt leaves out per-core L1/L2)
  const banks = new Map<string, CacheBank>();
  for (const t of topo) {
    const cdir = join(root, `sys/devices/system/cpu/cpu${t.id}/cache`);
    for (const idx of (await listDir(cdir)).filter((n) => n.startsWith('index')).sort()) {
      const level = await readInt(join(cdir, idx, 'level'));
      if (level === undefined || level < 3) continue;
      const ktype = ((await readText(join(cdir, idx, 'type'))) ?? '').trim();
      const type = ktype === 'Data' ? 'data' : ktype === 'Instruction' ? 'code' : 'both';
      const id = (await readInt(join(cdir, idx, 'id'))) ?? 0;
      const key = `${level}/${type}/${id}`;
      if (banks.has(key)) continue;
      const sizeText = ((await readText(join(cdir, idx, 'size'))) ?? '0K').trim();
      const m = /^(\d+)([KMG]?)$/.exec(sizeText);
      const size = m ? Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1 << 20 : m[2] === 'G' ? 1 << 30 : 1) : 0;
      const cpus = parseCpuList((await readText(join(cdir, idx, 'shared_cpu_list'))) ?? String(t.id));
      banks.set(key, { id, level, type, size, cpus });
    }
  }

  const dmi = (await readText(join(root, 'sys/class/dmi/id/product_uuid'))) ?? (await readText(join(root, 'sys/devices/virtual/dmi/id/product_uuid')));
  const machineId = await readText(join(root, 'etc/machine-id'));
  const uuid = (dmi && uuidFromHex(dmi)) ?? (machineId ? uuidFromHex(machineId) : undefined);

  const facts: HostFacts = {
    arch: hostArch(),
    cpu: {},
    pageSizes: [basePage, ...hugeSizes],
    iommu: (await listDir(join(root, 'sys/kernel/iommu_groups'))).length > 0,
    cells,
    caches: [...banks.values()].sort((a, b) => a.level - b.level || a.id - b.id),
  };
  if (uuid) facts.uuid = uuid;
  if (vendor) facts.cpu.vendor = vendor;
  if (microcode) facts.cpu.microcode = Number.parseInt(microcode, microcode.startsWith('0x') ? 16 : 10);
  if (family && model && stepping) facts.cpu.signature = { family: Number(family), model: Number(model), stepping: Number(stepping) };
  if (topology) facts.cpu.topology = topology;
  if (phys) facts.cpu.physAddrBits = Number(phys[1]);
  return facts;
}

const WORDSIZE: Record<string, number> = { i686: 32, x86_64: 64, aarch64: 64, armv7l: 32, ppc64le: 64, ppc64: 64, s390x: 64, riscv64: 64 };

/** The guest architecture an emulator runs (qemu-system-i386 runs i686 guests). */
export function guestArchOf(caps: QemuCaps): string {
  return caps.arch === 'i386' ? 'i686' : caps.arch;
}

/**
 * Machine types as libvirt lists them: the default first, each alias right after the machine it
 * stands for, QEMU's own order otherwise; 'none' left out.
 */
export function capsMachines(caps: QemuCaps): GuestMachine[] {
  const list = caps.machines.filter((m) => m.name !== 'none');
  const def = list.find((m) => m.isDefault);
  const ordered = def ? [def, ...list.filter((m) => m !== def)] : list;
  const out: GuestMachine[] = [];
  for (const m of ordered) {
    out.push({ name: m.name, maxCpus: m.maxCpus, ...(m.deprecated ? { deprecated: true } : {}) });
    if (m.alias) out.push({ name: m.alias, canonical: m.name, maxCpus: m.maxCpus, ...(m.deprecated ? { deprecated: true } : {}) });
  }
  return out;
}

/** One <guest> per emulator: hvm, its arch, machines, and the qemu (and kvm) domain types. */
export function qemuGuestCapabilities(caps: QemuCaps): GuestCapabilities {
  const arch = guestArchOf(caps);
  const x86 = arch === 'i686' || arch === 'x86_64';
  const features: GuestCapabilities['features'] = [];
  if (arch === 'i686') features.push({ name: 'pae' }, { name: 'nonpae' });
  if (x86) features.push({ name: 'acpi', default: 'on', toggle: true }, { name: 'apic', default: 'on', toggle: false });
  features.push({ name: 'cpuselection' }, { name: 'deviceboot' }, { name: 'disksnapshot', default: 'on', toggle: false });
  const domains: GuestCapabilities['arch']['domains'] = [{ type: 'qemu', machines: [] }];
  if (caps.kvm.enabled && caps.accelerators.includes('kvm')) domains.push({ type: 'kvm', machines: [] });
  return {
    osType: 'hvm',
    arch: { name: arch, wordsize: WORDSIZE[arch] ?? 64, emulator: caps.binary, machines: capsMachines(caps), domains },
    features,
  };
}

/** The host part of the capabilities from the host facts. */
export function qemuHostCapabilities(host: HostFacts): HostCapabilities {
  const h: HostCapabilities = {
    cpu: {
      arch: host.arch,
      features: [],
      def: {
        ...(host.cpu.vendor ? { vendor: host.cpu.vendor } : {}),
        ...(host.cpu.microcode !== undefined ? { microcode: { version: host.cpu.microcode } } : {}),
        ...(host.cpu.signature ? { signature: host.cpu.signature } : {}),
        ...(host.cpu.topology ? { topology: host.cpu.topology } : {}),
        ...(host.cpu.physAddrBits ? { maxphysaddr: { mode: 'emulate' as const, bits: host.cpu.physAddrBits } } : {}),
        feature: [],
      },
      pages: host.pageSizes,
    },
    powerManagement: [],
    iommu: host.iommu,
    topology: { cells: host.cells },
    cache: { banks: host.caches },
    secmodel: [{ model: 'none', doi: '0', baselabel: [] }],
  };
  if (host.uuid) h.uuid = host.uuid;
  return h;
}

/**
 * virConnectGetCapabilities for the QEMU driver: the host, then one guest per emulator in
 * architecture order (as QemuCapsCache.getAll() lists them). Format with formatCapabilitiesXML.
 */
export function qemuCapabilities(emulators: readonly QemuCaps[], host: HostFacts): Capabilities {
  const guests = [...emulators].sort((a, b) => guestArchOf(a).localeCompare(guestArchOf(b))).map(qemuGuestCapabilities);
  return { host: qemuHostCapabilities(host), guests };
}

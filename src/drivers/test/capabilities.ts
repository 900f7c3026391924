// What libvirt's test driver reports about its imaginary host (testBuildCapabilities and
// defaultNodeInfo in test_driver.c): an i686 host with pae/nonpae, four page sizes, two NUMA
// cells of eight CPUs for test:///default (none for a node file), a testSecurity model, and
// hvm and xen guests of type 'test'.
import { formatCapabilitiesXML, type Capabilities, type GuestCapabilities, type NumaCell } from '../../conf/capabilities/index.js';
import type { NodeInfo } from '../driver.js';

const TEST_EMULATOR = '/usr/bin/test-hv';

/** defaultNodeInfo: 16 CPUs at 1400 MHz in 2 NUMA nodes of 2 sockets × 2 cores × 2 threads, 3 GiB. */
export function testDefaultNodeInfo(): NodeInfo {
  return { model: 'i686', memory: 3145728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 };
}

/**
 * The NUMA cells of test:///default: cell u has 8 CPUs (ids 8u..8u+7, socket u, core = id mod 8,
 * each its own sibling) and (u+1) × 2 GiB of memory.
 */
function testDefaultCells(numCells = 2): { mem: number; cpus: number[] }[] {
  const cells: { mem: number; cpus: number[] }[] = [];
  for (let u = 0; u < numCells; u++) cells.push({ mem: (u + 1) * 2048 * 1024, cpus: Array.from({ length: 8 }, (_, i) => u * 8 + i) });
  return cells;
}

const PAGE_SIZES = [4, 8, 2048, 1024 * 1024];

/** testBuildCapabilities for a node with these cells (test:///default: testDefaultCells()). */
export function testCapabilities(cells: { mem: number; cpus: number[] }[] = testDefaultCells()): Capabilities {
  const numa: NumaCell[] = cells.map((c, i) => {
    // libvirt's quirk: cell 1 reports its base pages as 8 KiB pages, every other cell as 4 KiB.
    const base = i === 1 ? PAGE_SIZES[1]! : PAGE_SIZES[0]!;
    return {
      id: i,
      memory: c.mem,
      pages: [{ size: base, count: Math.floor(c.mem / base) }, ...PAGE_SIZES.slice(2).map((size) => ({ size, count: 0 }))],
      distances: [],
      cpus: c.cpus.map((id) => ({ id, socketId: Math.floor(id / 8), dieId: 0, coreId: id % 8, siblings: [id] })),
    };
  });
  const guest = (osType: 'hvm' | 'xen'): GuestCapabilities => ({
    osType,
    arch: { name: 'i686', wordsize: 32, emulator: TEST_EMULATOR, machines: [], domains: [{ type: 'test', machines: [] }] },
    features: [{ name: 'pae' }, { name: 'nonpae' }],
  });
  return {
    host: {
      cpu: { arch: 'i686', features: ['pae', 'nonpae'], pages: PAGE_SIZES },
      powerManagement: [],
      iommu: false,
      topology: { cells: numa },
      secmodel: [{ model: 'testSecurity', doi: '', baselabel: [] }],
    },
    guests: [guest('hvm'), guest('xen')],
  };
}

/**
 * The capabilities XML of a test:/// connection: `numCells` 2 for test:///default, 0 for a
 * connection opened on a node file (libvirt gives those no NUMA cells).
 */
export function testCapabilitiesXML(numCells = 2): string {
  return formatCapabilitiesXML(testCapabilities(testDefaultCells(numCells)));
}

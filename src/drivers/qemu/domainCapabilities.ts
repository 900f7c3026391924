// The QEMU driver's domain capabilities (`virsh domcapabilities`): for one emulator, machine,
// arch and virt type, what a domain may use — in libvirt 9.0's shape, with the values tsvirt's
// command line can express (not everything QEMU could do).
import type { DomainCapabilities, DomainCapsItem } from '../../conf/capabilities/index.js';
import { hostArch } from '../../conf/domain/index.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { QemuCaps } from './capabilities.js';
import { findMachine } from './domainDefaults.js';
import { guestArchOf } from './hostCapabilities.js';

export interface DomainCapabilitiesQuery {
  /** <emulator> path; default: the emulator of `arch`. */
  emulatorbin?: string;
  /** Guest architecture; default: the emulator's, else the host's. */
  arch?: string;
  /** Machine type or alias; default: the emulator's default machine. */
  machine?: string;
  /** 'kvm' or 'qemu'; default kvm when usable, else qemu. */
  virttype?: string;
}

/** Host facts the answer depends on. */
export interface DomainCapabilitiesHost {
  /** VFIO passthrough works here (/dev/vfio/vfio and IOMMU groups): hostdev pciBackend 'vfio'. */
  vfio: boolean;
}

function invalidArg(detail: string): Error {
  return virtError(ErrorNumber.INVALID_ARG, ErrorDomain.QEMU, detail);
}

// virDomainVirtType's names: any other virttype is "unknown"; these are known but only qemu and
// kvm can be served.
const VIRT_TYPE_NAMES = [
  'none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp',
  'parallels', 'bhyve', 'vz', 'hvf',
];

// virArch's names (an arch outside them is "unknown architecture").
const ARCH_NAMES = [
  'i686', 'x86_64', 'aarch64', 'armv6l', 'armv7l', 'armv7b', 'alpha', 'cris', 'lm32', 'm68k', 'microblaze',
  'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle',
  'ppc64', 'ppc64le', 'ppcemb', 'riscv32', 'riscv64', 's390', 's390x', 'sh4', 'sh4eb', 'sparc', 'sparc64',
  'unicore32', 'xtensa', 'xtensaeb', 'loongarch64',
];

const X86_ARCHES = new Set(['i686', 'x86_64']);

/**
 * Picks the emulator, arch, machine and virt type a query means, with libvirt 9.0's checks in
 * its order (virQEMUCapsCacheLookupDefault, then virQEMUDriverGetDomainCapabilities).
 */
export function resolveDomainCapsQuery(
  emulators: readonly QemuCaps[],
  q: DomainCapabilitiesQuery,
): { caps: QemuCaps; arch: string; machine: string; virttype: 'kvm' | 'qemu' } {
  if (q.virttype !== undefined && !VIRT_TYPE_NAMES.includes(q.virttype)) throw invalidArg(`unknown virttype: ${q.virttype}`);
  if (q.arch !== undefined && !ARCH_NAMES.includes(q.arch)) throw invalidArg(`unknown architecture: ${q.arch}`);
  let caps: QemuCaps | undefined;
  const arch = q.arch ?? hostArch();
  if (q.emulatorbin) {
    caps = emulators.find((c) => c.binary === q.emulatorbin);
    if (!caps) {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `Cannot find QEMU binary ${q.emulatorbin}`, { value: q.emulatorbin });
    }
    const fromCaps = guestArchOf(caps);
    // one emulator serves its whole family (qemu-system-x86_64 runs i686 guests)
    if (fromCaps !== arch && !(X86_ARCHES.has(arch) && X86_ARCHES.has(fromCaps))) {
      throw invalidArg(`architecture from emulator '${fromCaps}' doesn't match given architecture '${arch}'`);
    }
  } else {
    caps = emulators.find((c) => guestArchOf(c) === arch) ?? (arch === 'i686' ? emulators.find((c) => guestArchOf(c) === 'x86_64') : undefined);
    if (!caps) throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `unable to find any emulator to serve '${q.arch ?? '(null)'}' architecture`);
  }
  const kvm = caps.kvm.enabled && caps.accelerators.includes('kvm');
  // The emulator's own type: kvm when usable, else qemu (TCG).
  const capsType = kvm ? 'kvm' : 'qemu';
  const virttype = q.virttype === undefined || q.virttype === 'none' ? capsType : q.virttype;
  // Every type but qemu needs an accelerator; libvirt names it 'kvm' for kvm, 'tcg' otherwise.
  if (virttype !== 'qemu' && capsType === 'qemu') {
    throw invalidArg(`the accel '${virttype === 'kvm' ? 'kvm' : virttype === 'hvf' ? 'hvf' : 'tcg'}' is not supported by '${caps.binary}' on this host`);
  }
  let machine: string;
  if (q.machine) {
    const m = findMachine(caps, q.machine);
    if (!m) throw invalidArg(`the machine '${q.machine}' is not supported by emulator '${caps.binary}'`);
    machine = m.name;
  } else {
    const m = caps.machines.find((x) => x.isDefault);
    if (!m) throw invalidArg(`emulator '${caps.binary}' has no default machine`);
    machine = m.name;
  }
  if (virttype !== 'qemu' && virttype !== 'kvm') {
    throw invalidArg(`Emulator '${caps.binary}' does not support virt type '${virttype}'`);
  }
  return { caps, arch, machine, virttype };
}

// The x86 CPU models libvirt 9.0's CPU map knows, by vendor (its domcapabilities lists only
// these, under their unversioned names); QEMU models outside the map are left out as there.
const X86_CPU_VENDORS: Record<string, string[]> = {
  unknown: ['486', 'kvm32', 'kvm64', 'pentium', 'pentium2', 'pentium3', 'qemu32', 'qemu64'],
  AMD: ['EPYC', 'EPYC-IBPB', 'EPYC-Milan', 'EPYC-Rome', 'Opteron_G1', 'Opteron_G2', 'Opteron_G3', 'Opteron_G4', 'Opteron_G5', 'athlon', 'phenom'],
  Intel: [
    'Broadwell', 'Broadwell-IBRS', 'Broadwell-noTSX', 'Broadwell-noTSX-IBRS', 'Cascadelake-Server', 'Cascadelake-Server-noTSX',
    'Conroe', 'Cooperlake', 'Haswell', 'Haswell-IBRS', 'Haswell-noTSX', 'Haswell-noTSX-IBRS', 'Icelake-Server',
    'Icelake-Server-noTSX', 'IvyBridge', 'IvyBridge-IBRS', 'Nehalem', 'Nehalem-IBRS', 'Penryn', 'SandyBridge',
    'SandyBridge-IBRS', 'Skylake-Client', 'Skylake-Client-IBRS', 'Skylake-Client-noTSX-IBRS', 'Skylake-Server',
    'Skylake-Server-IBRS', 'Skylake-Server-noTSX-IBRS', 'Snowridge', 'Westmere', 'Westmere-IBRS', 'core2duo', 'coreduo', 'n270',
  ],
  Hygon: ['Dhyana'],
};
const CPU_VENDOR = new Map(Object.entries(X86_CPU_VENDORS).flatMap(([v, names]) => names.map((n) => [n, v] as const)));

/** The custom-mode CPU models libvirt would list: known models, in descending name order. */
function customCpuModels(caps: QemuCaps, kvm: boolean): DomainCapabilities['cpu']['custom'] {
  const x86 = caps.arch === 'x86_64' || caps.arch === 'i386';
  return caps.cpuModels
    .filter((c) => !x86 || CPU_VENDOR.has(c.name))
    .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
    .map((c) => {
      const usable = kvm ? c.usable.kvm : c.usable.tcg;
      const vendor = CPU_VENDOR.get(c.name);
      return {
        name: c.name,
        usable: usable === undefined ? ('unknown' as const) : usable ? ('yes' as const) : ('no' as const),
        ...(c.deprecated ? { deprecated: true } : {}),
        ...(vendor && vendor !== 'unknown' ? { vendor } : {}),
      };
    });
}

const item = (enums: Record<string, string[]>): DomainCapsItem => ({
  supported: true,
  enums: Object.entries(enums).map(([name, values]) => ({ name, values })),
});

/** virConnectGetDomainCapabilities for the QEMU driver. Format with formatDomainCapabilitiesXML. */
export function qemuDomainCapabilities(
  emulators: readonly QemuCaps[],
  q: DomainCapabilitiesQuery = {},
  host: DomainCapabilitiesHost = { vfio: false },
): DomainCapabilities {
  const { caps, arch, machine, virttype } = resolveDomainCapsQuery(emulators, q);
  const m = findMachine(caps, machine)!;
  const has = (t: string): boolean => caps.deviceTypes.includes(t);
  const kvm = virttype === 'kvm';
  const videoModels = (
    [
      ['vga', 'VGA'],
      ['cirrus', 'cirrus-vga'],
      ['vmvga', 'vmware-svga'],
      ['qxl', 'qxl-vga'],
      ['virtio', 'virtio-vga'],
      ['none', ''],
      ['bochs', 'bochs-display'],
      ['ramfb', 'ramfb'],
    ] as const
  )
    .filter(([, dev]) => dev === '' || has(dev))
    .map(([name]) => name);
  return {
    path: caps.binary,
    domain: virttype,
    machine,
    arch,
    maxVcpus: m.maxCpus,
    iothreads: false,
    os: {
      supported: true,
      // tsvirt boots BIOS machines: no firmware autoselection, only a ROM loader
      enums: [{ name: 'firmware', values: [] }],
      loader: {
        supported: true,
        values: [],
        enums: [
          { name: 'type', values: ['rom'] },
          { name: 'readonly', values: ['yes', 'no'] },
          { name: 'secure', values: ['no'] },
        ],
      },
    },
    cpu: {
      hostPassthrough: kvm,
      ...(kvm ? { hostPassthroughMigratable: ['on', 'off'] } : {}),
      maximum: true,
      maximumMigratable: ['on', 'off'],
      custom: customCpuModels(caps, kvm),
    },
    memoryBacking: item({ sourceType: ['anonymous'] }),
    devices: {
      disk: item({
        diskDevice: ['disk', 'cdrom'],
        bus: ['ide', 'scsi', 'virtio', 'usb', 'sata'],
        model: ['virtio', 'virtio-transitional', 'virtio-non-transitional'],
      }),
      graphics: item({ type: ['vnc'] }),
      video: item({ modelType: videoModels }),
      hostdev: item({
        mode: ['subsystem'],
        startupPolicy: ['default', 'mandatory', 'requisite', 'optional'],
        subsysType: ['pci'],
        capsType: [],
        pciBackend: host.vfio && has('vfio-pci') ? ['vfio'] : [],
      }),
      rng: item({ model: ['virtio', 'virtio-transitional', 'virtio-non-transitional'], backendModel: ['random', 'egd', 'builtin'] }),
      filesystem: { supported: false, enums: [] },
      tpm: { supported: false, enums: [] },
      redirdev: { supported: false, enums: [] },
      channel: item({ type: ['pty', 'unix'] }),
    },
    features: {
      gic: { supported: false, enums: [] },
      simple: { vmcoreinfo: false, genid: false, backingStoreInput: false, backup: false },
      hyperv: { supported: false, enums: [] },
    },
  };
}

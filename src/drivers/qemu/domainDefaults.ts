// The QEMU driver's hooks into the domain parser (libvirt's qemuDomainDefParserConfig): what a
// defined QEMU domain gets filled in — emulator, canonical machine type, default CPU model,
// implicit controllers, inputs, audio and balloon, device models — and its PCI, USB and
// virtio-serial addresses, so that `dumpxml` of a defined domain reads as libvirt 9.0's.
import { ErrorDomain, ErrorNumber, systemError, virtError } from '../../errors/index.js';
import { hostArch, type DomainDef, type DomainDeviceDef, type DomainDriverDefaults, type PostParseOptions } from '../../conf/domain/index.js';
import type { ControllerDef } from '../../conf/domain/controller.js';
import { existsSync } from 'node:fs';
import type { QemuCaps, QemuMachine } from './capabilities.js';
import { assignDomainAddresses, machineChipset } from './deviceAddresses.js';
import { validateInterfaceForDefine } from './devices/interface.js';
import { defaultPanicModel, validatePanic } from './devices/panic.js';

/**
 * Where the parser finds probed capabilities. Parsing is synchronous, so the caps must be probed
 * beforehand (QemuCapsCache.getAll() at driver start; a custom <emulator> is probed before its
 * define). qemuCapsSource() builds one from a list.
 */
export interface QemuCapsSource {
  /** The caps of one emulator binary, when probed. */
  forBinary(path: string): QemuCaps | undefined;
  /** The default emulator of a guest architecture ('x86_64' → qemu-system-x86_64), when any. */
  forArch(arch: string): QemuCaps | undefined;
}

/** A QemuCapsSource over already probed binaries (first binary of an arch is its default). */
export function qemuCapsSource(all: Iterable<QemuCaps>): QemuCapsSource {
  const byBinary = new Map<string, QemuCaps>();
  const byArch = new Map<string, QemuCaps>();
  for (const c of all) {
    byBinary.set(c.binary, c);
    if (!byArch.has(c.arch)) byArch.set(c.arch, c);
  }
  return {
    forBinary: (p) => byBinary.get(p),
    // i686 guests run on qemu-system-x86_64 when there is no qemu-system-i386
    forArch: (a) => byArch.get(a) ?? (a === 'i686' ? byArch.get('x86_64') : undefined),
  };
}

const X86 = new Set(['i686', 'x86_64']);

function qemuUnsupported(detail: string, fault?: { element?: string; attribute?: string; value?: string }): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, detail, fault);
}

/** The caps of the emulator a (post-parsed) definition names. */
export function capsForDomain(caps: QemuCapsSource, def: DomainDef): QemuCaps {
  const path = def.devices.emulator;
  if (path) {
    const c = caps.forBinary(path);
    if (c) return c;
    if (!existsSync(path)) throw systemError(ErrorDomain.QEMU, 2, `Cannot check QEMU binary ${path}`, { element: 'devices/emulator', value: path });
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `QEMU binary ${path} has not been probed`, { element: 'devices/emulator', value: path });
  }
  const c = caps.forArch(def.os.arch);
  if (!c) throw qemuUnsupported(`No emulator found for arch '${def.os.arch}'`, { element: 'os/type', attribute: 'arch', value: def.os.arch });
  return c;
}

/** The machine entry of the caps for a machine name or alias. */
export function findMachine(caps: QemuCaps, name: string): QemuMachine | undefined {
  return caps.machines.find((m) => m.name === name) ?? caps.machines.find((m) => m.alias === name);
}

/** The QEMU driver's parser hooks over the given capabilities. */
export function qemuDomainDefaults(caps: QemuCapsSource): DomainDriverDefaults {
  return {
    features: { userAlias: true, netModelString: true },
    defArch: hostArch(),
    netPrefix: 'vnet',
    domainPostParseBasic(def) {
      const c = capsForDomain(caps, def);
      if (!def.devices.emulator) def.devices.emulator = c.binary;
    },
    domainPostParse(def) {
      const c = capsForDomain(caps, def);
      postParseVirtType(def, c);
      postParseMachine(def, c);
      addDefaultCpu(def, c);
      addDefaultDevices(def);
    },
    devicePostParse(dev, def, opts) {
      devicePostParse(dev, def, opts, caps);
    },
    assignAddresses(def) {
      assignDomainAddresses(def);
    },
    domainValidate(def) {
      validateLifecycleActions(def);
    },
    deviceValidate(dev, def) {
      if (dev.kind === 'interface') validateInterfaceForDefine(dev.def);
      else if (dev.kind === 'panic') {
        let c: QemuCaps | undefined;
        try {
          c = capsForDomain(caps, def);
        } catch {
          c = undefined;
        }
        validatePanic(dev.def, def, c);
      }
    },
  };
}

/**
 * qemuValidateLifecycleAction: what the QEMU driver cannot do with on_poweroff / on_reboot /
 * on_crash (libvirt's message, typos included).
 */
export function validateLifecycleActions(def: Pick<DomainDef, 'onPoweroff' | 'onReboot' | 'onCrash'>): void {
  const { onPoweroff, onReboot, onCrash } = def;
  if (onPoweroff === 'rename-restart' || onReboot === 'rename-restart' || onCrash === 'rename-restart') {
    throw qemuUnsupported("qemu driver doesn't support the 'rename-restart' action for 'on_reboot'/'on_poweroff'/'on_crash'", { value: 'rename-restart' });
  }
  if (onPoweroff === 'preserve' || onReboot === 'preserve') {
    throw qemuUnsupported("qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'", { value: 'preserve' });
  }
  // A guest reboot would power off and be restarted as a power-off, for ever.
  if (onPoweroff === 'restart' && onReboot === 'destroy') {
    throw qemuUnsupported("qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to 'reboot'", { element: 'on_poweroff', value: 'restart' });
  }
}

function postParseVirtType(def: DomainDef, c: QemuCaps): void {
  const ok = def.type === 'qemu' || (def.type === 'kvm' && c.kvm.enabled);
  if (!ok) {
    throw qemuUnsupported(`Emulator '${c.binary}' does not support virt type '${def.type}'`, {
      element: 'domain',
      attribute: 'type',
      value: def.type,
    });
  }
  if (def.os.type !== 'hvm') {
    throw qemuUnsupported(`Emulator '${c.binary}' does not support os type '${def.os.type}'`, { element: 'os/type', value: def.os.type });
  }
}

/** Machine type: the default when absent, aliases ('pc', 'q35') resolved to the versioned name. */
function postParseMachine(def: DomainDef, c: QemuCaps): void {
  if (!def.os.machine) {
    const m = c.machines.find((x) => x.isDefault);
    if (m) def.os.machine = m.name;
    return;
  }
  const m = findMachine(c, def.os.machine);
  if (!m) {
    throw qemuUnsupported(`Emulator '${c.binary}' does not support machine type '${def.os.machine}'`, {
      element: 'os/type',
      attribute: 'machine',
      value: def.os.machine,
    });
  }
  def.os.machine = m.name;
}

/**
 * qemuDomainDefAddDefaultCPUModel: an x86 guest without a CPU model gets the machine's default
 * (qemu64), written so that the guest CPU never silently changes.
 */
function addDefaultCpu(def: DomainDef, c: QemuCaps): void {
  if (!X86.has(def.os.arch)) return;
  // qemuDomainDefCPUPostParse: how strictly a given CPU is checked when the XML does not say
  if (def.cpu && !def.cpu.check) {
    if (def.cpu.mode === 'custom' && def.cpu.model) def.cpu.check = 'partial';
    else if (def.cpu.mode === 'host-model') def.cpu.check = 'partial';
    else if (def.cpu.mode === 'host-passthrough' || def.cpu.mode === 'maximum') def.cpu.check = 'none';
  }
  if (def.cpu && (def.cpu.model || def.cpu.mode !== 'custom')) return;
  const m = def.os.machine ? findMachine(c, def.os.machine) : undefined;
  const typeName = m?.defaultCpuType;
  if (!typeName) return;
  const model = typeName.replace(/-x86_64-cpu$|-i386-cpu$/, '');
  if (!def.cpu) def.cpu = { mode: 'custom', features: [] };
  def.cpu.mode = 'custom';
  def.cpu.match = 'exact';
  def.cpu.check = 'none';
  def.cpu.model = model;
  def.cpu.fallback = 'forbid';
}

/** qemuDomainDefAddDefaultDevices and the implicit inputs, audio and balloon. */
function addDefaultDevices(def: DomainDef): void {
  const chipset = machineChipset(def.os.machine);
  const controllers = (def.devices.controllers ??= []);
  if (chipset === 'i440fx' || chipset === 'q35') {
    if (!controllers.some((x) => x.type === 'usb')) {
      controllers.push({ type: 'usb', index: 0, model: chipset === 'q35' ? 'qemu-xhci' : 'piix3-uhci' });
    }
    if (chipset === 'q35' && !controllers.some((x) => x.type === 'sata' && x.index === 0)) {
      controllers.push({ type: 'sata', index: 0 });
    }
    const root = chipset === 'q35' ? 'pcie-root' : 'pci-root';
    const pci0 = controllers.find((x) => x.type === 'pci' && x.index === 0);
    if (!pci0) controllers.push({ type: 'pci', index: 0, model: root });
    else if (!pci0.model) pci0.model = root;
    else if (pci0.model !== root) {
      // a PCI controller without index got index 0 (qemuDomainDefValidatePCIController…)
      throw virtError(
        ErrorNumber.XML_ERROR,
        ErrorDomain.QEMU,
        `The PCI controller with index='0' must be model='${root}' for this machine type, but model='${pci0.model}' was found instead`,
        { element: 'controller', attribute: 'model', value: pci0.model },
      );
    }
  }
  if (controllers.length === 0) delete def.devices.controllers;

  if (chipset === 'i440fx' || chipset === 'q35') {
    const inputs = (def.devices.inputs ??= []);
    for (const type of ['mouse', 'keyboard'] as const) {
      if (!inputs.some((i) => i.type === type && i.bus === 'ps2')) inputs.push({ type, bus: 'ps2' });
    }
  }
  if (!def.devices.audios?.length) def.devices.audios = [{ id: 1, type: 'none' }];
  if (!def.devices.memballoon) def.devices.memballoon = { model: 'virtio' };
}

function devicePostParse(dev: DomainDeviceDef, def: DomainDef, _opts: PostParseOptions, caps: QemuCapsSource): void {
  switch (dev.kind) {
    case 'disk': {
      const d = dev.def;
      d.driver ??= {};
      if (!d.driver.name) d.driver.name = 'qemu';
      if (!d.source.format && d.source.type !== 'volume') d.source.format = 'raw';
      return;
    }
    case 'interface': {
      const n = dev.def;
      if (!n.model && n.type !== 'hostdev') n.model = X86.has(def.os.arch) ? 'rtl8139' : 'virtio';
      return;
    }
    case 'controller':
      controllerPostParse(dev.def, def, caps);
      return;
    case 'serial': {
      const s = dev.def;
      if (!s.target.type && X86.has(def.os.arch)) s.target.type = 'isa-serial';
      if (!s.target.model) {
        const m = SERIAL_MODELS[s.target.type ?? ''];
        if (m) s.target.model = m;
      }
      return;
    }
    case 'panic':
      dev.def.model ??= defaultPanicModel(def);
      return;
    case 'video': {
      const v = dev.def;
      if (!v.model.type) v.model.type = X86.has(def.os.arch) ? 'cirrus' : 'virtio';
      return;
    }
    default:
      return;
  }
}

// qemuDomainChrDefPostParse: the device model that goes with each serial target type
const SERIAL_MODELS: Record<string, string> = {
  'isa-serial': 'isa-serial',
  'usb-serial': 'usb-serial',
  'pci-serial': 'pci-serial',
  'spapr-vio-serial': 'spapr-vty',
  'system-serial': 'pl011',
  'sclp-serial': 'sclpconsole',
  'isa-debug': 'isa-debugcon',
};

function controllerPostParse(cont: ControllerDef, def: DomainDef, caps: QemuCapsSource): void {
  const chipset = machineChipset(def.os.machine);
  switch (cont.type) {
    case 'usb':
      if (!cont.model && cont.index === 0) cont.model = chipset === 'q35' ? 'qemu-xhci' : 'piix3-uhci';
      return;
    case 'scsi':
      if (!cont.model) {
        let c: QemuCaps | undefined;
        try {
          c = capsForDomain(caps, def);
        } catch {
          c = undefined;
        }
        cont.model = !c || c.deviceTypes.includes('lsi53c895a') ? 'lsilogic' : 'virtio-scsi';
      }
      return;
    case 'pci':
      if (cont.index === 0 && !cont.model) cont.model = chipset === 'q35' ? 'pcie-root' : 'pci-root';
      if (cont.model === 'pci-bridge' && !cont.modelName) cont.modelName = 'pci-bridge';
      return;
    default:
      return;
  }
}

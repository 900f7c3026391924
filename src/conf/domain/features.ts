// <features>: hypervisor features. Written back in libvirt's fixed feature order, whatever the
// order of the input.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ParseContext, onOff, unsupported, xmlError } from './parseContext.js';
import { parseScaledElement } from './units.js';

export const FEATURE_NAMES = [
  'acpi', 'apic', 'pae', 'hap', 'viridian', 'privnet', 'hyperv', 'kvm', 'pvspinlock', 'capabilities',
  'pmu', 'vmport', 'gic', 'smm', 'ioapic', 'hpt', 'vmcoreinfo', 'htm', 'nested-hv', 'msrs', 'ccf-assist',
  'xen', 'cfpc', 'sbbc', 'ibs', 'tcg',
] as const;

export const HYPERV_FEATURES = [
  'relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', 'stimer', 'reset', 'vendor_id',
  'frequencies', 'reenlightenment', 'tlbflush', 'ipi', 'evmcs', 'avic',
] as const;
export const KVM_FEATURES = ['hidden', 'hint-dedicated', 'poll-control', 'pv-ipi', 'dirty-ring'] as const;
export const XEN_FEATURES = ['e820_host', 'passthrough'] as const;
export const CAPS_FEATURES = [
  'audit_control', 'audit_write', 'block_suspend', 'chown', 'dac_override', 'dac_read_search', 'fowner',
  'fsetid', 'ipc_lock', 'ipc_owner', 'kill', 'lease', 'linux_immutable', 'mac_admin', 'mac_override',
  'mknod', 'net_admin', 'net_bind_service', 'net_broadcast', 'net_raw', 'setgid', 'setfcap', 'setpcap',
  'setuid', 'sys_admin', 'sys_boot', 'sys_chroot', 'sys_module', 'sys_nice', 'sys_pacct', 'sys_ptrace',
  'sys_rawio', 'sys_resource', 'sys_time', 'sys_tty_config', 'syslog', 'wake_alarm',
] as const;

export interface FeaturesDef {
  acpi?: boolean;
  apic?: { eoi?: boolean };
  pae?: boolean;
  hap?: boolean;
  viridian?: boolean;
  privnet?: boolean;
  hyperv?: {
    mode: 'custom' | 'passthrough';
    features: Partial<Record<(typeof HYPERV_FEATURES)[number], boolean>>;
    spinlocksRetries?: number;
    stimerDirect?: boolean;
    vendorId?: string;
  };
  kvm?: { features: Partial<Record<(typeof KVM_FEATURES)[number], boolean>>; dirtyRingSize?: number };
  pvspinlock?: boolean;
  capabilities?: { policy: 'default' | 'allow' | 'deny'; features: Partial<Record<string, boolean>> };
  pmu?: boolean;
  vmport?: boolean;
  gic?: { version?: string };
  smm?: { state: boolean; tsegBytes?: bigint };
  ioapic?: { driver: 'qemu' | 'kvm' };
  hpt?: { resizing?: string; maxpagesizeKiB?: bigint };
  vmcoreinfo?: boolean;
  htm?: boolean;
  nestedHv?: boolean;
  msrs?: { unknown: 'ignore' | 'fault' };
  ccfAssist?: boolean;
  xen?: { features: Partial<Record<(typeof XEN_FEATURES)[number], boolean>>; passthroughMode?: 'sync_pt' | 'share_pt' };
  cfpc?: string;
  sbbc?: string;
  ibs?: string;
  tcg?: { tbCacheKiB?: number };
}

const GIC_VERSIONS = ['none', 'host', '2', '3'] as const;
const IOAPIC = ['none', 'qemu', 'kvm'] as const;
const HPT_RESIZING = ['none', 'enabled', 'disabled', 'required'] as const;
const CFPC = ['none', 'broken', 'workaround', 'fixed'] as const;
const SBBC = ['none', 'broken', 'workaround', 'fixed'] as const;
const IBS = ['none', 'broken', 'workaround', 'fixed-ibs', 'fixed-ccd', 'fixed-na'] as const;
const MSRS_UNKNOWN = ['ignore', 'fault'] as const;
const HYPERV_MODES = ['none', 'custom', 'passthrough'] as const;
const CAPS_POLICY = ['default', 'allow', 'deny'] as const;
const XEN_PASSTHROUGH = ['default', 'sync_pt', 'share_pt'] as const;

function stateOrOn(ctx: ParseContext, el: XmlElement): boolean {
  return ctx.switchProp(el, 'state') ?? true;
}

export function parseFeatures(ctx: ParseContext, el: XmlElement | undefined): FeaturesDef {
  const f: FeaturesDef = {};
  if (!el) return f;
  for (const n of ctx.children(el)) {
    if (!(FEATURE_NAMES as readonly string[]).includes(n.name)) {
      throw unsupported(`unexpected feature '${n.name}'`, { element: `features/${n.name}` });
    }
    switch (n.name as (typeof FEATURE_NAMES)[number]) {
      case 'acpi':
      case 'pae':
      case 'viridian':
      case 'privnet':
        f[n.name as 'acpi' | 'pae' | 'viridian' | 'privnet'] = true;
        break;
      case 'apic': {
        const eoi = ctx.switchProp(n, 'eoi');
        f.apic = eoi === undefined ? {} : { eoi };
        break;
      }
      case 'msrs':
        f.msrs = { unknown: ctx.enumProp(n, 'unknown', MSRS_UNKNOWN, { required: true })! };
        break;
      case 'hyperv':
        f.hyperv = parseHyperv(ctx, n);
        break;
      case 'kvm':
        f.kvm = parseKvm(ctx, n);
        break;
      case 'xen': {
        const xen: NonNullable<FeaturesDef['xen']> = { features: {} };
        for (const c of ctx.children(n)) {
          if (!(XEN_FEATURES as readonly string[]).includes(c.name)) throw unsupported(`unsupported Xen feature: ${c.name}`);
          const v = ctx.switchProp(c, 'state', { required: true })!;
          xen.features[c.name as (typeof XEN_FEATURES)[number]] = v;
          if (c.name === 'passthrough' && v) {
            const mode = ctx.enumProp(c, 'mode', XEN_PASSTHROUGH, { nonzero: true });
            if (mode) xen.passthroughMode = mode as 'sync_pt' | 'share_pt';
          }
        }
        f.xen = xen;
        break;
      }
      case 'capabilities': {
        const policy = ctx.enumProp(n, 'policy', CAPS_POLICY) ?? 'default';
        const caps: NonNullable<FeaturesDef['capabilities']> = { policy, features: {} };
        for (const c of ctx.children(n)) {
          if (!(CAPS_FEATURES as readonly string[]).includes(c.name)) throw unsupported(`unexpected capability feature '${c.name}'`);
          caps.features[c.name] = ctx.switchProp(c, 'state') ?? true;
        }
        f.capabilities = caps;
        break;
      }
      case 'vmcoreinfo':
        f.vmcoreinfo = stateOrOn(ctx, n);
        break;
      case 'hap':
        f.hap = stateOrOn(ctx, n);
        break;
      case 'pmu':
        f.pmu = stateOrOn(ctx, n);
        break;
      case 'pvspinlock':
        f.pvspinlock = stateOrOn(ctx, n);
        break;
      case 'vmport':
        f.vmport = stateOrOn(ctx, n);
        break;
      case 'smm': {
        const state = stateOrOn(ctx, n);
        f.smm = { state };
        if (state) {
          const tseg = ctx.child(n, 'tseg');
          const bytes = parseScaledElement(ctx, tseg, 'string(./features/smm/tseg)', { scale: 1024n * 1024n, max: (1n << 64n) - 1n });
          if (bytes !== undefined) f.smm.tsegBytes = bytes;
        }
        break;
      }
      case 'gic': {
        const version = ctx.enumProp(n, 'version', GIC_VERSIONS, { nonzero: true });
        f.gic = version ? { version } : {};
        break;
      }
      case 'ioapic': {
        const driver = ctx.enumProp(n, 'driver', IOAPIC, { nonzero: true });
        if (driver) f.ioapic = { driver: driver as 'qemu' | 'kvm' };
        else delete f.ioapic;
        break;
      }
      case 'hpt': {
        const resizing = ctx.enumProp(n, 'resizing', HPT_RESIZING, { nonzero: true });
        const mps = ctx.child(n, 'maxpagesize');
        let kib: bigint | undefined;
        try {
          const bytes = parseScaledElement(ctx, mps, './features/hpt/maxpagesize', { scale: 1024n, max: (1n << 64n) - 1n });
          if (bytes !== undefined) kib = (bytes + 1023n) / 1024n;
        } catch {
          throw unsupported('Unable to parse HPT maxpagesize setting');
        }
        if (resizing || (kib !== undefined && kib > 0n)) {
          f.hpt = {};
          if (resizing) f.hpt.resizing = resizing;
          if (kib) f.hpt.maxpagesizeKiB = kib;
        }
        break;
      }
      case 'cfpc': {
        const v = ctx.enumProp(n, 'value', CFPC, { nonzero: true });
        if (v) f.cfpc = v;
        break;
      }
      case 'sbbc': {
        const v = ctx.enumProp(n, 'value', SBBC, { nonzero: true });
        if (v) f.sbbc = v;
        break;
      }
      case 'ibs': {
        const v = ctx.enumProp(n, 'value', IBS, { nonzero: true });
        if (v) f.ibs = v;
        break;
      }
      case 'htm':
        f.htm = ctx.switchProp(n, 'state', { required: true })!;
        break;
      case 'nested-hv':
        f.nestedHv = ctx.switchProp(n, 'state', { required: true })!;
        break;
      case 'ccf-assist':
        f.ccfAssist = ctx.switchProp(n, 'state', { required: true })!;
        break;
      case 'tcg': {
        const tcg: NonNullable<FeaturesDef['tcg']> = {};
        const tb = ctx.child(n, 'tb-cache');
        const bytes = parseScaledElement(ctx, tb, './features/tcg/tb-cache', { scale: 1024n, max: (1n << 63n) - 1n });
        if (bytes !== undefined) tcg.tbCacheKiB = Number((bytes + 1023n) / 1024n);
        f.tcg = tcg;
        break;
      }
    }
  }
  return f;
}

function parseHyperv(ctx: ParseContext, n: XmlElement): NonNullable<FeaturesDef['hyperv']> {
  const mode = (ctx.enumProp(n, 'mode', HYPERV_MODES, { nonzero: true }) ?? 'custom') as 'custom' | 'passthrough';
  const hv: NonNullable<FeaturesDef['hyperv']> = { mode, features: {} };
  for (const c of ctx.children(n)) {
    if (!(HYPERV_FEATURES as readonly string[]).includes(c.name)) {
      throw unsupported(`unsupported HyperV Enlightenment feature: ${c.name}`, { element: `features/hyperv/${c.name}` });
    }
    const name = c.name as (typeof HYPERV_FEATURES)[number];
    const v = ctx.switchProp(c, 'state', { required: true })!;
    hv.features[name] = v;
    if (!v) continue;
    if (name === 'stimer') {
      for (const d of ctx.children(c)) {
        if (d.name !== 'direct') throw unsupported(`unsupported Hyper-V stimer feature: ${d.name}`);
        hv.stimerDirect = ctx.switchProp(d, 'state', { required: true })!;
      }
    } else if (name === 'spinlocks') {
      const r = ctx.uintProp(c, 'retries', 0, { required: true })!;
      if (r < 0xfff) throw xmlError('HyperV spinlock retry count must be at least 4095');
      hv.spinlocksRetries = r;
    } else if (name === 'vendor_id') {
      const val = ctx.attr(c, 'value');
      if (val === undefined) throw xmlError("missing 'value' attribute for HyperV feature 'vendor_id'");
      if (val.length > 12) throw xmlError('HyperV vendor_id value must not be more than 12 characters.');
      if (val.includes(',')) throw xmlError('HyperV vendor_id value is invalid');
      hv.vendorId = val;
    }
  }
  return hv;
}

function parseKvm(ctx: ParseContext, n: XmlElement): NonNullable<FeaturesDef['kvm']> {
  const kvm: NonNullable<FeaturesDef['kvm']> = { features: {} };
  for (const c of ctx.children(n)) {
    if (!(KVM_FEATURES as readonly string[]).includes(c.name)) throw unsupported(`unsupported KVM feature: ${c.name}`);
    const name = c.name as (typeof KVM_FEATURES)[number];
    const v = ctx.switchProp(c, 'state', { required: true })!;
    kvm.features[name] = v;
    if (name === 'dirty-ring' && v) {
      const size = ctx.uintProp(c, 'size', 0, { required: true })!;
      if ((size & (size - 1)) !== 0 || size < 1024 || size > 65536) {
        throw xmlError('dirty ring must be power of 2 and ranges [1024, 65536]');
      }
      kvm.dirtyRingSize = size;
    }
  }
  return kvm;
}

/** virFormatIntPretty: the largest binary unit that divides the value exactly. */
function prettyUnit(bytes: bigint): [bigint, string] {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v !== 0n && v % 1024n === 0n && i < units.length - 1) {
    v /= 1024n;
    i++;
  }
  return [v, units[i]!];
}

export function formatFeatures(w: XmlWriter, f: FeaturesDef): void {
  w.element('features', undefined, (c) => {
    if (f.acpi) c.empty('acpi');
    if (f.apic) c.empty('apic', { eoi: onOff(f.apic.eoi) });
    if (f.pae) c.empty('pae');
    if (f.hap !== undefined) c.empty('hap', { state: onOff(f.hap) });
    if (f.viridian) c.empty('viridian');
    if (f.privnet) c.empty('privnet');
    if (f.hyperv) {
      const hv = f.hyperv;
      c.open('hyperv', { mode: hv.mode });
      for (const name of HYPERV_FEATURES) {
        const v = hv.features[name];
        if (v === undefined) continue;
        const state = onOff(v);
        if (name === 'spinlocks' && v) c.empty(name, { state, retries: hv.spinlocksRetries });
        else if (name === 'stimer' && v && hv.stimerDirect === true) {
          c.open(name, { state });
          c.empty('direct', { state: 'on' });
          c.close(name);
        } else if (name === 'vendor_id' && v) c.empty(name, { state, value: hv.vendorId });
        else c.empty(name, { state });
      }
      c.close('hyperv');
    }
    if (f.kvm) {
      c.open('kvm');
      for (const name of KVM_FEATURES) {
        const v = f.kvm.features[name];
        if (v === undefined) continue;
        if (name === 'dirty-ring' && f.kvm.dirtyRingSize) c.empty(name, { state: onOff(v), size: f.kvm.dirtyRingSize });
        else c.empty(name, { state: onOff(v) });
      }
      c.close('kvm');
    }
    if (f.pvspinlock !== undefined) c.empty('pvspinlock', { state: onOff(f.pvspinlock) });
    if (f.capabilities) {
      const caps = f.capabilities;
      const hasAny = Object.keys(caps.features).length > 0;
      c.element('capabilities', { policy: caps.policy !== 'default' || hasAny ? caps.policy : undefined }, (cc) => {
        for (const name of CAPS_FEATURES) {
          const v = caps.features[name];
          if (v !== undefined) cc.empty(name, { state: onOff(v) });
        }
      });
    }
    if (f.pmu !== undefined) c.empty('pmu', { state: onOff(f.pmu) });
    if (f.vmport !== undefined) c.empty('vmport', { state: onOff(f.vmport) });
    if (f.gic) c.empty('gic', { version: f.gic.version });
    if (f.smm) {
      const smm = f.smm;
      c.element('smm', { state: onOff(smm.state) }, (s) => {
        if (smm.state && smm.tsegBytes !== undefined) {
          const [v, unit] = prettyUnit(smm.tsegBytes);
          s.text('tseg', v, { unit });
        }
      });
    }
    if (f.ioapic) c.empty('ioapic', { driver: f.ioapic.driver });
    if (f.hpt) {
      const hpt = f.hpt;
      c.element('hpt', { resizing: hpt.resizing }, (h) => {
        if (hpt.maxpagesizeKiB) h.text('maxpagesize', hpt.maxpagesizeKiB, { unit: 'KiB' });
      });
    }
    if (f.vmcoreinfo !== undefined) c.empty('vmcoreinfo', { state: onOff(f.vmcoreinfo) });
    if (f.htm !== undefined) c.empty('htm', { state: onOff(f.htm) });
    if (f.nestedHv !== undefined) c.empty('nested-hv', { state: onOff(f.nestedHv) });
    if (f.msrs) c.empty('msrs', { unknown: f.msrs.unknown });
    if (f.ccfAssist !== undefined) c.empty('ccf-assist', { state: onOff(f.ccfAssist) });
    if (f.xen) {
      c.open('xen');
      for (const name of XEN_FEATURES) {
        const v = f.xen.features[name];
        if (v === undefined) continue;
        c.empty(name, { state: onOff(v), mode: name === 'passthrough' && v ? f.xen.passthroughMode : undefined });
      }
      c.close('xen');
    }
    if (f.cfpc) c.empty('cfpc', { value: f.cfpc });
    if (f.sbbc) c.empty('sbbc', { value: f.sbbc });
    if (f.ibs) c.empty('ibs', { value: f.ibs });
    if (f.tcg) {
      const tcg = f.tcg;
      c.element('tcg', undefined, (t) => {
        if (tcg.tbCacheKiB) t.text('tb-cache', tcg.tbCacheKiB, { unit: 'KiB' });
      });
    }
  });
}

// The <cpu> description libvirt prints inside host capabilities (the host CPU, features by name)
// and inside domain capabilities (the host-model CPU, features with a policy). Order as
// virCPUDefFormatBuf: model, vendor, microcode, signature, counter, topology, cache,
// maxphysaddr, features.
import type { XmlWriter } from '../xml/xmlWriter.js';
import { yesNo } from '../xmlProps.js';

export type CpuFeaturePolicy = 'force' | 'require' | 'optional' | 'disable' | 'forbid';

export interface CpuFeature {
  name: string;
  /** guest CPUs (host-model in domain capabilities) name a policy; the host CPU does not */
  policy?: CpuFeaturePolicy;
}

export interface CapsCpuDef {
  model?: { name: string; fallback?: 'allow' | 'forbid'; vendorId?: string };
  vendor?: string;
  /** host CPU only */
  microcode?: { version: number };
  /** host CPU only (x86 family/model/stepping) */
  signature?: { family: number; model: number; stepping: number };
  /** host CPU only: the TSC */
  counter?: { name: string; frequency: number; scaling?: boolean };
  topology?: { sockets: number; dies: number; cores: number; threads: number };
  cache?: { level?: number; mode: 'emulate' | 'passthrough' | 'disable' };
  maxphysaddr?: { mode: 'emulate' | 'passthrough'; bits?: number };
  feature: CpuFeature[];
}

/** Writes the CPU's children (not the enclosing element) at the writer's depth. */
export function writeCapsCpuDef(w: XmlWriter, cpu: CapsCpuDef): void {
  if (cpu.model) w.text('model', cpu.model.name, { fallback: cpu.model.fallback, vendor_id: cpu.model.vendorId });
  if (cpu.vendor !== undefined) w.text('vendor', cpu.vendor);
  if (cpu.microcode) w.empty('microcode', { version: cpu.microcode.version });
  if (cpu.signature) w.empty('signature', { family: cpu.signature.family, model: cpu.signature.model, stepping: cpu.signature.stepping });
  if (cpu.counter) {
    w.empty('counter', {
      name: cpu.counter.name,
      frequency: cpu.counter.frequency,
      scaling: yesNo(cpu.counter.scaling),
    });
  }
  if (cpu.topology) {
    const t = cpu.topology;
    w.empty('topology', { sockets: t.sockets, dies: t.dies, cores: t.cores, threads: t.threads });
  }
  if (cpu.cache) w.empty('cache', { level: cpu.cache.level, mode: cpu.cache.mode });
  if (cpu.maxphysaddr) w.empty('maxphysaddr', { mode: cpu.maxphysaddr.mode, bits: cpu.maxphysaddr.bits });
  for (const f of cpu.feature) w.empty('feature', { policy: f.policy, name: f.name });
}

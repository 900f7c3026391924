// <vcpu>, <numatune> and <resource>: how many vCPUs, where they and the guest memory may run.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { strToUInt } from '../xmlProps.js';
import { ParseContext, unsupported, xmlError } from './parseContext.js';
import { CPUMASK_LEN, formatCpuSet, parseCpuSet } from './cpuSet.js';

export const CPU_PLACEMENTS = ['static', 'auto'] as const;
export const NUMATUNE_MODES = ['strict', 'preferred', 'interleave', 'restrictive'] as const;
export const NUMATUNE_PLACEMENTS = ['default', 'static', 'auto'] as const;

export interface VcpuDef {
  placement: 'static' | 'auto';
  /** Host CPUs the vCPUs may run on (static placement). */
  cpuset?: number[];
  /** Maximum vCPU count (the element's text). */
  count: number;
  /** vCPUs online at boot, when fewer than count. */
  current?: number;
}

export interface NumatuneDef {
  memory?: {
    mode: (typeof NUMATUNE_MODES)[number];
    placement: 'static' | 'auto';
    nodeset?: number[];
  };
  memnodes: { cellid: number; mode: (typeof NUMATUNE_MODES)[number]; nodeset: number[] }[];
}

export function parseVcpu(ctx: ParseContext, el: XmlElement | undefined): VcpuDef {
  const vcpu: VcpuDef = { placement: 'static', count: 1 };
  if (!el) return vcpu;
  const text = ctx.text(el);
  const max = strToUInt(text, 10);
  if (max === undefined) throw xmlError('maximum vcpus count must be an integer', { element: 'vcpu', value: text });
  vcpu.count = max;
  const current = ctx.uintProp(el, 'current');
  vcpu.placement = ctx.enumProp(el, 'placement', CPU_PLACEMENTS) ?? 'static';
  if (vcpu.placement !== 'auto') {
    const cpuset = ctx.attr(el, 'cpuset');
    if (cpuset !== undefined) {
      const bits = parseCpuSet(cpuset, CPUMASK_LEN);
      if (bits.length === 0) throw unsupported(`Invalid value of 'cpuset': ${cpuset}`, { element: 'vcpu', attribute: 'cpuset', value: cpuset });
      vcpu.cpuset = bits;
    }
  } else {
    ctx.attr(el, 'cpuset');
  }
  if (max === 0) throw unsupported('Invalid number of vCPUs', { element: 'vcpu', value: text });
  if (current !== undefined) {
    if (current > max) throw unsupported('maximum vCPU count must not be less than current vCPU count', { element: 'vcpu', attribute: 'current' });
    if (current !== max) vcpu.current = current;
  }
  return vcpu;
}

export function formatVcpu(w: XmlWriter, vcpu: VcpuDef): void {
  const allSet = vcpu.cpuset !== undefined && vcpu.cpuset.length === CPUMASK_LEN;
  w.text('vcpu', vcpu.count, {
    placement: vcpu.placement,
    cpuset: vcpu.cpuset && !allSet ? formatCpuSet(vcpu.cpuset) : undefined,
    current: vcpu.current !== undefined && vcpu.current < vcpu.count ? vcpu.current : undefined,
  });
}

/** virDomainNumatuneParseXML; `placementStatic` is true unless <vcpu placement='auto'>. */
export function parseNumatune(ctx: ParseContext, root: XmlElement, placementStatic: boolean): NumatuneDef | undefined {
  const all = ctx.children(root, 'numatune');
  if (all.length > 1) throw xmlError('only one numatune is supported', { element: 'numatune' });
  const nt = all[0];
  const memEl = nt ? ctx.child(nt, 'memory') : undefined;
  let mode: (typeof NUMATUNE_MODES)[number] | undefined;
  let placement: (typeof NUMATUNE_PLACEMENTS)[number] | undefined;
  let nodeset: number[] | undefined;
  if (!placementStatic && !memEl) placement = 'auto';
  if (memEl) {
    const m = ctx.attr(memEl, 'mode');
    if (m !== undefined) {
      if (!(NUMATUNE_MODES as readonly string[]).includes(m)) throw unsupported(`Unsupported NUMA memory tuning mode '${m}'`);
      mode = m as typeof mode;
    }
    const p = ctx.attr(memEl, 'placement');
    if (p !== undefined) {
      if (!(NUMATUNE_PLACEMENTS as readonly string[]).includes(p)) throw unsupported(`Unsupported NUMA memory placement mode '${p}'`);
      placement = p as typeof placement;
    }
    const ns = ctx.attr(memEl, 'nodeset');
    if (ns !== undefined) {
      nodeset = parseCpuSet(ns, CPUMASK_LEN);
      if (nodeset.length === 0) throw unsupported(`Invalid value of 'nodeset': ${ns}`);
    }
  }
  const def: NumatuneDef = { memnodes: [] };
  if (mode !== undefined || placement !== undefined || nodeset !== undefined) {
    const mm = mode ?? 'strict';
    let pl = placement ?? 'default';
    if (nodeset && placement === undefined) pl = 'static';
    if (pl === 'default') pl = nodeset || placementStatic ? 'static' : 'auto';
    if (pl === 'static' && !nodeset) throw unsupported("nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
    if (pl === 'auto') nodeset = undefined;
    def.memory = { mode: mm, placement: pl };
    if (nodeset) def.memory.nodeset = nodeset;
  }
  if (nt) {
    for (const n of ctx.children(nt, 'memnode')) {
      const cellid = ctx.uintProp(n, 'cellid', 10, { required: true })!;
      const m = ctx.enumProp(n, 'mode', NUMATUNE_MODES) ?? 'strict';
      const ns = ctx.attr(n, 'nodeset');
      if (ns === undefined) throw xmlError("Missing required nodeset attribute in numatune memnode element");
      def.memnodes.push({ cellid, mode: m, nodeset: parseCpuSet(ns, CPUMASK_LEN) });
    }
  }
  return def.memory || def.memnodes.length ? def : undefined;
}

export function formatNumatune(w: XmlWriter, nt: NumatuneDef | undefined): void {
  if (!nt || (!nt.memory && nt.memnodes.length === 0)) return;
  w.open('numatune');
  if (nt.memory) {
    if (nt.memory.placement === 'static') w.empty('memory', { mode: nt.memory.mode, nodeset: formatCpuSet(nt.memory.nodeset ?? []) });
    else w.empty('memory', { mode: nt.memory.mode, placement: nt.memory.placement });
  }
  for (const n of [...nt.memnodes].sort((a, b) => a.cellid - b.cellid)) {
    w.empty('memnode', { cellid: n.cellid, mode: n.mode, nodeset: formatCpuSet(n.nodeset) });
  }
  w.close('numatune');
}

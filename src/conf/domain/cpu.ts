// <cpu>: guest CPU mode, model, vendor, topology, cache, features. Errors come from libvirt's
// cpu_conf.c (error domain CPU).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { ParseContext, onOff, unsupported, xmlError, yesNo } from './parseContext.js';
import { CPUMASK_LEN, formatCpuSet, parseCpuSet } from './cpuSet.js';
import { parseScaledElement } from './units.js';

export const CPU_MODES = ['custom', 'host-model', 'host-passthrough', 'maximum'] as const;
export const CPU_MATCHES = ['exact', 'minimum', 'strict'] as const;
export const CPU_CHECKS = ['default', 'none', 'partial', 'full'] as const;
export const CPU_FALLBACKS = ['allow', 'forbid'] as const;
export const CPU_FEATURE_POLICIES = ['force', 'require', 'optional', 'disable', 'forbid'] as const;
const CACHE_MODES = ['emulate', 'passthrough', 'disable'] as const;
const MAXPHYSADDR_MODES = ['emulate', 'passthrough'] as const;

export interface CpuDef {
  mode: (typeof CPU_MODES)[number];
  /** Default 'exact' (written for custom mode only). */
  match?: (typeof CPU_MATCHES)[number];
  check?: 'none' | 'partial' | 'full';
  migratable?: boolean;
  model?: string;
  /** Default 'allow' (written whenever a model is). */
  fallback?: (typeof CPU_FALLBACKS)[number];
  vendorId?: string;
  vendor?: string;
  topology?: { sockets: number; dies: number; cores: number; threads: number };
  cache?: { level?: number; mode: (typeof CACHE_MODES)[number] };
  maxphysaddr?: { mode: (typeof MAXPHYSADDR_MODES)[number]; bits?: number };
  features: { policy: (typeof CPU_FEATURE_POLICIES)[number]; name: string }[];
  /** <numa><cell …/></numa>: guest NUMA cells, indexed by id. */
  numa?: NumaCell[];
}

export interface NumaCell {
  cpus?: number[];
  /** KiB */
  memory: number;
  memAccess?: 'shared' | 'private';
  discard?: boolean;
  /** Distances to every cell (by cell id), when given. */
  distances?: (number | undefined)[];
}

function cpuError(code: number, detail: string): Error {
  return virtError(code, ErrorDomain.CPU, detail, { element: 'cpu' });
}

export function parseCpu(ctx: ParseContext, el: XmlElement): CpuDef {
  const modeStr = ctx.attr(el, 'mode');
  let mode: CpuDef['mode'] = 'custom';
  if (modeStr !== undefined) {
    if (!(CPU_MODES as readonly string[]).includes(modeStr)) {
      throw cpuError(ErrorNumber.CONFIG_UNSUPPORTED, `Invalid mode attribute '${modeStr}'`);
    }
    mode = modeStr as CpuDef['mode'];
  }
  const def: CpuDef = { mode, features: [] };
  const migratable = ctx.switchProp(el, 'migratable');
  if (migratable !== undefined) {
    if (mode !== 'host-passthrough' && mode !== 'maximum') {
      throw cpuError(ErrorNumber.CONFIG_UNSUPPORTED, "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode");
    }
    def.migratable = migratable;
  }
  const match = ctx.enumProp(el, 'match', CPU_MATCHES);
  if (match) def.match = match;
  const check = ctx.enumProp(el, 'check', CPU_CHECKS);
  if (check && check !== 'default') def.check = check;

  const modelEl = ctx.child(el, 'model');
  const model = modelEl ? ctx.text(modelEl) : '';
  if (model) def.model = model;
  if (modelEl && mode !== 'host-passthrough' && mode !== 'maximum') {
    const fallback = ctx.attr(modelEl, 'fallback');
    if (fallback) {
      if (!(CPU_FALLBACKS as readonly string[]).includes(fallback)) throw cpuError(ErrorNumber.CONFIG_UNSUPPORTED, 'Invalid fallback attribute');
      def.fallback = fallback as CpuDef['fallback'];
    }
    const vendorId = ctx.attr(modelEl, 'vendor_id');
    if (vendorId) {
      if (vendorId.length !== 12) throw cpuError(ErrorNumber.XML_ERROR, 'vendor_id must be exactly 12 characters long');
      if (vendorId.includes(',')) throw cpuError(ErrorNumber.XML_ERROR, 'vendor id is invalid');
      def.vendorId = vendorId;
    }
  } else if (modelEl) {
    ctx.attr(modelEl, 'fallback');
    ctx.attr(modelEl, 'vendor_id');
  }
  const vendor = ctx.childText(el, 'vendor');
  if (vendor) {
    if (!def.model) throw cpuError(ErrorNumber.XML_ERROR, 'CPU vendor specified without CPU model');
    def.vendor = vendor;
  }
  const topo = ctx.child(el, 'topology');
  if (topo) {
    const sockets = ctx.uintProp(topo, 'sockets', 10, { required: true, nonzero: true })!;
    const dies = ctx.uintProp(topo, 'dies', 10, { nonzero: true }) ?? 1;
    const cores = ctx.uintProp(topo, 'cores', 10, { required: true, nonzero: true })!;
    const threads = ctx.uintProp(topo, 'threads', 10, { required: true, nonzero: true })!;
    def.topology = { sockets, dies, cores, threads };
  }
  const feats = ctx.children(el, 'feature');
  if (feats.length && !def.model && mode === 'custom') {
    throw cpuError(ErrorNumber.XML_ERROR, 'Non-empty feature list specified without CPU model');
  }
  for (const fe of feats) {
    const p = ctx.attr(fe, 'policy');
    let policy: CpuDef['features'][number]['policy'] = 'require';
    if (p !== undefined) {
      if (!(CPU_FEATURE_POLICIES as readonly string[]).includes(p)) throw cpuError(ErrorNumber.CONFIG_UNSUPPORTED, 'Invalid CPU feature policy');
      policy = p as typeof policy;
    }
    const name = ctx.attr(fe, 'name');
    if (!name) throw cpuError(ErrorNumber.XML_ERROR, 'Invalid CPU feature name');
    if (def.features.some((x) => x.name === name)) throw cpuError(ErrorNumber.XML_ERROR, `CPU feature '${name}' specified more than once`);
    def.features.push({ policy, name });
  }
  const caches = ctx.children(el, 'cache');
  if (caches.length > 1) throw cpuError(ErrorNumber.XML_ERROR, 'at most one CPU cache element may be specified');
  if (caches.length === 1) {
    const c = caches[0]!;
    const level = ctx.intProp(c, 'level', 10, { nonnegative: true });
    if (level !== undefined && (level < 1 || level > 3)) throw cpuError(ErrorNumber.XML_ERROR, 'invalid CPU cache level, must be in range [1,3]');
    const cmode = ctx.enumProp(c, 'mode', CACHE_MODES, { required: true })!;
    def.cache = level === undefined ? { mode: cmode } : { level, mode: cmode };
  }
  const numa = ctx.child(el, 'numa');
  if (numa) def.numa = parseNuma(ctx, numa);
  const mpa = ctx.child(el, 'maxphysaddr');
  if (mpa) {
    const m = ctx.enumProp(mpa, 'mode', MAXPHYSADDR_MODES, { required: true })!;
    const bits = ctx.intProp(mpa, 'bits', 10, { nonnegative: true });
    def.maxphysaddr = bits === undefined ? { mode: m } : { mode: m, bits };
  }
  return def;
}

function parseNuma(ctx: ParseContext, numa: XmlElement): NumaCell[] {
  const cells = ctx.children(numa, 'cell');
  if (!cells.length) throw xmlError('NUMA topology defined without NUMA cells');
  const out: (NumaCell | undefined)[] = new Array(cells.length).fill(undefined);
  cells.forEach((c, i) => {
    const id = ctx.uintProp(c, 'id') ?? i;
    if (id >= cells.length) {
      throw xmlError('Exactly one \'cell\' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed');
    }
    if (out[id]) throw xmlError(`Duplicate NUMA cell info for cell id '${id}'`);
    const cell: NumaCell = { memory: 0 };
    const cpus = ctx.attr(c, 'cpus');
    if (cpus !== undefined) {
      const bits = parseCpuSet(cpus, CPUMASK_LEN);
      if (bits.length) cell.cpus = bits;
    }
    out.forEach((o, j) => {
      if (o?.cpus && cell.cpus && o.cpus.some((b) => cell.cpus!.includes(b))) {
        throw unsupported(`NUMA cells ${id} and ${j} have overlapping vCPU ids`);
      }
    });
    const mem = ctx.attr(c, 'memory');
    const fake: XmlElement = { name: 'cell', attrs: { unit: ctx.attr(c, 'unit') ?? '' }, children: mem ? [mem] : [], line: c.line, column: c.column };
    const bytes = parseScaledElement(ctx, fake, './@memory', { scale: 1024n, max: (1n << 63n) - 1n, required: true })!;
    cell.memory = Number((bytes + 1023n) / 1024n);
    const ma = ctx.enumProp(c, 'memAccess', ['default', 'shared', 'private'] as const, { nonzero: true });
    if (ma) cell.memAccess = ma as 'shared' | 'private';
    const discard = ctx.boolProp(c, 'discard');
    if (discard !== undefined) cell.discard = discard;
    out[id] = cell;
    const dist = ctx.child(c, 'distances');
    if (dist) {
      const sibs = ctx.children(dist, 'sibling');
      if (!sibs.length) throw xmlError('NUMA distances defined without siblings');
      for (const s of sibs) {
        const sid = ctx.uintProp(s, 'id', 10, { required: true })!;
        if (sid >= cells.length) throw xmlError(`'sibling_id ${sid}' does not refer to a valid cell within NUMA 'cell id ${id}'`);
        const v = ctx.uintProp(s, 'value', 10, { required: true })!;
        if (v < 10 || v > 255 || (sid === id && v !== 10) || (sid !== id && v === 10)) {
          throw xmlError(`'value ${v}' is invalid for 'sibling id ${sid}' under NUMA 'cell id ${id}'`);
        }
        cell.distances ??= [];
        cell.distances[id] ??= 10;
        cell.distances[sid] = v;
      }
    }
  });
  // distances not given in one direction mirror the other
  out.forEach((cell, i) => {
    cell!.distances?.forEach((v, j) => {
      if (v === undefined || j === i) return;
      const other = out[j]!;
      other.distances ??= [];
      other.distances[j] ??= 10;
      other.distances[i] ??= v;
    });
  });
  return out as NumaCell[];
}

function formatNuma(w: XmlWriter, cells: NumaCell[]): void {
  w.open('numa');
  cells.forEach((c, i) => {
    w.element(
      'cell',
      { id: i, cpus: c.cpus ? formatCpuSet(c.cpus) : undefined, memory: c.memory, unit: 'KiB', memAccess: c.memAccess, discard: yesNo(c.discard) },
      (cc) => {
        if (c.distances) {
          cc.element('distances', undefined, (d) => {
            c.distances!.forEach((v, j) => {
              if (v) d.empty('sibling', { id: j, value: v });
            });
          });
        }
      },
    );
  });
  w.close('numa');
}

export function formatCpu(w: XmlWriter, cpu: CpuDef, numa?: (w: XmlWriter) => void): void {
  const attrs: Record<string, string | undefined> = {};
  if (cpu.mode !== 'custom' || cpu.model) {
    attrs.mode = cpu.mode;
    if (cpu.mode === 'custom') attrs.match = cpu.match ?? 'exact';
    attrs.check = cpu.check;
    if (cpu.mode === 'host-passthrough' || cpu.mode === 'maximum') attrs.migratable = onOff(cpu.migratable);
  }
  w.element('cpu', attrs, (c) => {
    const formatModel = cpu.mode === 'custom' || cpu.mode === 'host-model';
    if (formatModel && (cpu.model || cpu.vendorId)) {
      c.inline('model', { fallback: cpu.model ? (cpu.fallback ?? 'allow') : undefined, vendor_id: cpu.vendorId }, cpu.model);
    }
    if (formatModel && cpu.vendor) c.text('vendor', cpu.vendor);
    if (cpu.topology) c.empty('topology', { ...cpu.topology });
    if (cpu.cache) c.empty('cache', { level: cpu.cache.level, mode: cpu.cache.mode });
    if (cpu.maxphysaddr) c.empty('maxphysaddr', { mode: cpu.maxphysaddr.mode, bits: cpu.maxphysaddr.bits });
    for (const f of cpu.features) c.empty('feature', { policy: f.policy, name: f.name });
    if (cpu.numa) formatNuma(c, cpu.numa);
    numa?.(c);
  });
}

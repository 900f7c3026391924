// Memory sizing and tuning: <memory>, <currentMemory>, <maxMemory>, <memtune>, <memoryBacking>.
// Sizes are kept in KiB, as libvirt keeps them and writes them (unit='KiB').
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { strToUIntP } from '../xmlProps.js';
import { ParseContext, onOff, unsupported, xmlError } from './parseContext.js';
import { CPUMASK_LEN, formatCpuSet, parseCpuSet } from './cpuSet.js';
import { parseMemoryKiB, parseScaledElement } from './units.js';

/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED (KiB): limits at or above it mean "unlimited". */
export const MEMORY_UNLIMITED = 9007199254740991;

const MEM_SOURCES = ['none', 'file', 'anonymous', 'memfd'] as const;
const MEM_ACCESS = ['default', 'shared', 'private'] as const;
const MEM_ALLOCATION = ['none', 'immediate', 'ondemand'] as const;

export interface MemoryTuneDef {
  memtune?: { hardLimit?: number; softLimit?: number; minGuarantee?: number; swapHardLimit?: number };
  memoryBacking?: {
    /** <hugepages/>: empty list means default-size pages. */
    hugepages?: { size: number; nodeset?: number[] }[];
    nosharepages?: boolean;
    locked?: boolean;
    source?: Exclude<(typeof MEM_SOURCES)[number], 'none'>;
    access?: Exclude<(typeof MEM_ACCESS)[number], 'default'>;
    allocation?: { mode?: Exclude<(typeof MEM_ALLOCATION)[number], 'none'>; threads?: number };
    discard?: boolean;
  };
}

export interface MemorySizes {
  memory: number;
  memoryDumpCore?: boolean;
  currentMemory: number;
  maxMemory?: { size: number; slots: number };
}

/** virDomainDefParseMemory: sizes plus <memoryBacking>. */
export function parseMemory(ctx: ParseContext, root: XmlElement): MemorySizes & MemoryTuneDef {
  const memEl = ctx.child(root, 'memory');
  const out: MemorySizes & MemoryTuneDef = {
    memory: parseMemoryKiB(ctx, memEl, './memory[1]') ?? 0,
    currentMemory: parseMemoryKiB(ctx, ctx.child(root, 'currentMemory'), './currentMemory[1]') ?? 0,
  };
  const maxEl = ctx.child(root, 'maxMemory');
  const max = parseMemoryKiB(ctx, maxEl, './maxMemory[1]');
  let slots: number | undefined;
  if (maxEl) {
    const s = ctx.attr(maxEl, 'slots');
    if (s !== undefined && s !== '') {
      slots = strToUIntP(s, 10);
      if (slots === undefined) throw xmlError('Failed to parse memory slot count', { element: 'maxMemory', attribute: 'slots', value: s });
    }
  }
  if (max || slots) out.maxMemory = { size: max ?? 0, slots: slots ?? 0 };
  if (memEl) {
    const dc = ctx.switchProp(memEl, 'dumpCore');
    if (dc !== undefined) out.memoryDumpCore = dc;
  }
  const mb = ctx.child(root, 'memoryBacking');
  if (mb) out.memoryBacking = parseMemoryBacking(ctx, mb);
  return out;
}

function parseMemoryBacking(ctx: ParseContext, mb: XmlElement): NonNullable<MemoryTuneDef['memoryBacking']> {
  const def: NonNullable<MemoryTuneDef['memoryBacking']> = {};
  const src = ctx.child(mb, 'source');
  const srcType = src ? ctx.attr(src, 'type') : undefined;
  if (srcType) {
    const i = (MEM_SOURCES as readonly string[]).indexOf(srcType);
    if (i <= 0) throw unsupported(`unknown memoryBacking/source/type '${srcType}'`);
    def.source = srcType as NonNullable<typeof def.source>;
  }
  const acc = ctx.child(mb, 'access');
  const accMode = acc ? ctx.attr(acc, 'mode') : undefined;
  if (accMode) {
    const i = (MEM_ACCESS as readonly string[]).indexOf(accMode);
    if (i <= 0) throw unsupported(`unknown memoryBacking/access/mode '${accMode}'`);
    def.access = accMode as NonNullable<typeof def.access>;
  }
  const alloc = ctx.child(mb, 'allocation');
  if (alloc) {
    const a: NonNullable<typeof def.allocation> = {};
    const mode = ctx.attr(alloc, 'mode');
    if (mode) {
      const i = (MEM_ALLOCATION as readonly string[]).indexOf(mode);
      if (i <= 0) throw unsupported(`unknown memoryBacking/allocation/mode '${mode}'`);
      a.mode = mode as NonNullable<typeof a.mode>;
    }
    const th = ctx.attr(alloc, 'threads');
    if (th !== undefined && th !== '') {
      const n = strToUIntP(th, 10);
      if (n === undefined) throw xmlError('Failed to parse memory allocation threads');
      if (n > 0) a.threads = n;
    }
    if (a.mode || a.threads) def.allocation = a;
  }
  const hp = ctx.child(mb, 'hugepages');
  if (hp) {
    def.hugepages = ctx.children(hp, 'page').map((p) => {
      const bytes = parseScaledAttr(ctx, p);
      if (!bytes) throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, "hugepage size can't be zero");
      const page: { size: number; nodeset?: number[] } = { size: bytes };
      const ns = ctx.attr(p, 'nodeset');
      if (ns !== undefined) {
        const bits = parseCpuSet(ns, CPUMASK_LEN);
        if (!bits.length) throw unsupported(`Invalid value of 'nodeset': ${ns}`);
        page.nodeset = bits;
      }
      return page;
    });
  }
  if (ctx.child(mb, 'nosharepages')) def.nosharepages = true;
  if (ctx.child(mb, 'locked')) def.locked = true;
  if (ctx.child(mb, 'discard')) def.discard = true;
  return def;
}

/** <page size='N' unit='U'>: virDomainParseMemory over attributes, KiB. */
function parseScaledAttr(ctx: ParseContext, p: XmlElement): number {
  const size = ctx.attr(p, 'size');
  const fake: XmlElement = { name: 'page', attrs: { unit: ctx.attr(p, 'unit') ?? '' }, children: size ? [size] : [], line: p.line, column: p.column };
  const bytes = parseScaledElement(ctx, fake, './@size', { scale: 1024n, max: (1n << 63n) - 1n, required: true })!;
  return Number((bytes + 1023n) / 1024n);
}

/** <memtune> limits (virDomainParseMemoryLimit: capped at "unlimited"). */
export function parseMemtune(ctx: ParseContext, root: XmlElement): MemoryTuneDef['memtune'] | undefined {
  const mt = ctx.child(root, 'memtune');
  if (!mt) return undefined;
  const limit = (name: string): number | undefined => {
    const el = ctx.child(mt, name);
    const bytes = parseScaledElement(ctx, el, `./memtune/${name}[1]`, { scale: 1024n, max: BigInt(MEMORY_UNLIMITED) << 10n });
    if (bytes === undefined) return undefined;
    const kib = Number((bytes + 1023n) / 1024n);
    return kib < MEMORY_UNLIMITED ? kib : undefined;
  };
  const out: NonNullable<MemoryTuneDef['memtune']> = {};
  const hard = limit('hard_limit');
  const soft = limit('soft_limit');
  const minG = parseMemoryKiB(ctx, ctx.child(mt, 'min_guarantee'), './memtune/min_guarantee[1]');
  const swap = limit('swap_hard_limit');
  if (hard !== undefined) out.hardLimit = hard;
  if (soft !== undefined) out.softLimit = soft;
  if (minG) out.minGuarantee = minG;
  if (swap !== undefined) out.swapHardLimit = swap;
  return out;
}

export function formatMemory(w: XmlWriter, def: MemorySizes & MemoryTuneDef): void {
  if (def.maxMemory && (def.maxMemory.slots > 0 || def.maxMemory.size > 0)) {
    w.text('maxMemory', def.maxMemory.size, { slots: def.maxMemory.slots, unit: 'KiB' });
  }
  w.text('memory', def.memory, { dumpCore: onOff(def.memoryDumpCore), unit: 'KiB' });
  w.text('currentMemory', def.currentMemory, { unit: 'KiB' });
}

/** <memtune> then <memoryBacking>, which libvirt writes after <blkiotune>. */
export function formatMemoryTune(w: XmlWriter, def: MemoryTuneDef): void {
  const mt = def.memtune;
  if (mt) {
    w.element('memtune', undefined, (c) => {
      if (mt.hardLimit !== undefined) c.text('hard_limit', mt.hardLimit, { unit: 'KiB' });
      if (mt.softLimit !== undefined) c.text('soft_limit', mt.softLimit, { unit: 'KiB' });
      if (mt.minGuarantee) c.text('min_guarantee', mt.minGuarantee, { unit: 'KiB' });
      if (mt.swapHardLimit !== undefined) c.text('swap_hard_limit', mt.swapHardLimit, { unit: 'KiB' });
    });
  }
  const mb = def.memoryBacking;
  if (mb) {
    w.element('memoryBacking', undefined, (c) => {
      if (mb.hugepages) {
        const pages = mb.hugepages;
        c.elementAlways('hugepages', undefined, (h) => {
          for (const p of pages) {
            h.empty('page', { size: p.size, unit: 'KiB', nodeset: p.nodeset ? formatCpuSet(p.nodeset) : undefined });
          }
        });
      }
      if (mb.nosharepages) c.empty('nosharepages');
      if (mb.locked) c.empty('locked');
      if (mb.source) c.empty('source', { type: mb.source });
      if (mb.access) c.empty('access', { mode: mb.access });
      if (mb.allocation) c.element('allocation', { mode: mb.allocation.mode, threads: mb.allocation.threads });
      if (mb.discard) c.empty('discard');
    });
  }
}

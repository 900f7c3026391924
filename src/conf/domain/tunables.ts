// <iothreads>/<iothreadids>/<defaultiothread> and <cputune>: I/O threads, CPU shares and
// bandwidth limits, and pinning of vCPUs, emulator and I/O threads to host CPUs.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { parseCLong, strToUIntP, strToULongLongP } from '../xmlProps.js';
import { ParseContext, internalError, xmlError } from './parseContext.js';
import { CPUMASK_LEN, formatCpuSet, parseCpuSet } from './cpuSet.js';
import { unsupported } from './parseContext.js';

export interface IothreadsDef {
  /** Every I/O thread; those the XML only counted are numbered from the lowest free id. */
  ids: { id: number; threadPoolMin?: number; threadPoolMax?: number; autofill?: boolean }[];
  defaultIothread?: { threadPoolMin?: number; threadPoolMax?: number };
}

export interface CputuneDef {
  shares?: bigint;
  period?: bigint;
  quota?: bigint;
  globalPeriod?: bigint;
  globalQuota?: bigint;
  emulatorPeriod?: bigint;
  emulatorQuota?: bigint;
  iothreadPeriod?: bigint;
  iothreadQuota?: bigint;
  vcpupin: { vcpu: number; cpuset: number[] }[];
  emulatorpin?: number[];
  iothreadpin: { iothread: number; cpuset: number[] }[];
}

function pools(ctx: ParseContext, el: XmlElement): { threadPoolMin?: number; threadPoolMax?: number } {
  const out: { threadPoolMin?: number; threadPoolMax?: number } = {};
  const mn = ctx.intProp(el, 'thread_pool_min', 10, { nonnegative: true });
  const mx = ctx.intProp(el, 'thread_pool_max', 10, { nonnegative: true });
  if (mn !== undefined) out.threadPoolMin = mn;
  if (mx !== undefined) out.threadPoolMax = mx;
  return out;
}

export function parseIothreads(ctx: ParseContext, root: XmlElement): IothreadsDef | undefined {
  const countText = ctx.childText(root, 'iothreads');
  let count = 0;
  if (countText) {
    const n = strToUIntP(countText, 10);
    if (n === undefined) throw xmlError(`invalid iothreads count '${countText}'`);
    count = n;
  }
  const out: IothreadsDef = { ids: [] };
  const dflt = ctx.child(root, 'defaultiothread');
  if (dflt) {
    const p = pools(ctx, dflt);
    if (p.threadPoolMin !== undefined || p.threadPoolMax !== undefined) out.defaultIothread = p;
  }
  const idsEl = ctx.child(root, 'iothreadids');
  for (const t of idsEl ? ctx.children(idsEl, 'iothread') : []) {
    const id = ctx.uintProp(t, 'id', 10, { required: true, nonzero: true })!;
    if (out.ids.some((x) => x.id === id)) throw xmlError(`duplicate iothread id '${id}' found`);
    out.ids.push({ id, ...pools(ctx, t) });
  }
  if (out.ids.length > count) count = out.ids.length;
  let next = 1;
  while (out.ids.length < count) {
    while (out.ids.some((x) => x.id === next)) next++;
    out.ids.push({ id: next, autofill: true });
    next++;
  }
  return out.ids.length || out.defaultIothread ? out : undefined;
}

export function formatIothreads(w: XmlWriter, io: IothreadsDef | undefined): void {
  if (!io) return;
  if (io.ids.length) w.text('iothreads', io.ids.length);
  const show = io.ids.some((t) => !t.autofill || t.threadPoolMin !== undefined || t.threadPoolMax !== undefined);
  if (show) {
    w.open('iothreadids');
    for (const t of io.ids) w.empty('iothread', { id: t.id, thread_pool_min: t.threadPoolMin, thread_pool_max: t.threadPoolMax });
    w.close('iothreadids');
  }
  if (io.defaultIothread) {
    w.element('defaultiothread', { thread_pool_min: io.defaultIothread.threadPoolMin, thread_pool_max: io.defaultIothread.threadPoolMax });
  }
}

function cpuset(ctx: ParseContext, el: XmlElement, what: string): number[] {
  const s = ctx.attr(el, 'cpuset');
  if (s === undefined) throw internalError(`missing cpuset for ${what}`);
  const bits = parseCpuSet(s, CPUMASK_LEN);
  if (!bits.length) throw unsupported(`Invalid value of 'cpuset': ${s}`);
  return bits;
}

export function parseCputune(ctx: ParseContext, root: XmlElement, maxVcpus: number, iothreads: IothreadsDef | undefined): CputuneDef | undefined {
  const ct = ctx.child(root, 'cputune');
  if (!ct) return undefined;
  const def: CputuneDef = { vcpupin: [], iothreadpin: [] };
  const u64 = (name: string, key: keyof CputuneDef, what: string): void => {
    const t = ctx.childText(ct, name);
    if (!t) return;
    const v = strToULongLongP(t, 10);
    if (v === undefined) throw xmlError(`can't parse cputune ${what} value`);
    (def as unknown as Record<string, bigint>)[key] = v;
  };
  const i64 = (name: string, key: keyof CputuneDef, what: string): void => {
    const t = ctx.childText(ct, name);
    if (!t) return;
    const v = parseCLong(t, 10);
    if (v === undefined || v < -(1n << 63n) || v >= 1n << 63n) throw xmlError(`can't parse cputune ${what} value`);
    (def as unknown as Record<string, bigint>)[key] = v;
  };
  u64('shares', 'shares', 'shares');
  u64('period', 'period', 'period');
  i64('quota', 'quota', 'quota');
  u64('global_period', 'globalPeriod', 'global period');
  i64('global_quota', 'globalQuota', 'global quota');
  u64('emulator_period', 'emulatorPeriod', 'emulator period');
  i64('emulator_quota', 'emulatorQuota', 'emulator quota');
  u64('iothread_period', 'iothreadPeriod', 'iothread period');
  i64('iothread_quota', 'iothreadQuota', 'iothread quota');
  for (const p of ctx.children(ct, 'vcpupin')) {
    const vcpu = ctx.uintProp(p, 'vcpu', 10, { required: true })!;
    if (vcpu >= maxVcpus) {
      ctx.attr(p, 'cpuset');
      continue; // libvirt ignores pins of vCPUs that do not exist
    }
    if (def.vcpupin.some((x) => x.vcpu === vcpu)) throw internalError(`duplicate vcpupin for vcpu '${vcpu}'`);
    def.vcpupin.push({ vcpu, cpuset: cpuset(ctx, p, 'vcpupin') });
  }
  const ep = ctx.children(ct, 'emulatorpin');
  if (ep.length > 1) throw xmlError('only one emulatorpin is supported');
  if (ep.length === 1) def.emulatorpin = cpuset(ctx, ep[0]!, 'emulatorpin');
  for (const p of ctx.children(ct, 'iothreadpin')) {
    const id = ctx.uintProp(p, 'iothread', 10, { required: true, nonzero: true })!;
    if (!iothreads?.ids.some((t) => t.id === id)) throw xmlError(`Cannot find 'iothread' : ${id}`);
    if (def.iothreadpin.some((x) => x.iothread === id)) throw xmlError(`duplicate iothreadpin for same iothread '${id}'`);
    def.iothreadpin.push({ iothread: id, cpuset: cpuset(ctx, p, 'iothreadpin') });
  }
  return def;
}

export function formatCputune(w: XmlWriter, ct: CputuneDef | undefined): void {
  if (!ct) return;
  w.element('cputune', undefined, (c) => {
    if (ct.shares !== undefined) c.text('shares', ct.shares);
    if (ct.period) c.text('period', ct.period);
    if (ct.quota) c.text('quota', ct.quota);
    if (ct.globalPeriod) c.text('global_period', ct.globalPeriod);
    if (ct.globalQuota) c.text('global_quota', ct.globalQuota);
    if (ct.emulatorPeriod) c.text('emulator_period', ct.emulatorPeriod);
    if (ct.emulatorQuota) c.text('emulator_quota', ct.emulatorQuota);
    if (ct.iothreadPeriod) c.text('iothread_period', ct.iothreadPeriod);
    if (ct.iothreadQuota) c.text('iothread_quota', ct.iothreadQuota);
    for (const p of [...ct.vcpupin].sort((a, b) => a.vcpu - b.vcpu)) c.empty('vcpupin', { vcpu: p.vcpu, cpuset: formatCpuSet(p.cpuset) });
    if (ct.emulatorpin) c.empty('emulatorpin', { cpuset: formatCpuSet(ct.emulatorpin) });
    for (const p of ct.iothreadpin) c.empty('iothreadpin', { iothread: p.iothread, cpuset: formatCpuSet(p.cpuset) });
  });
}

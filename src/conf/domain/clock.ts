// <clock>: offset (utc, localtime, variable, timezone, absolute) and per-timer settings.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { strToLongLong, strToULongLongP } from '../xmlProps.js';
import { ParseContext, internalError, unsupported, xmlError, yesNo } from './parseContext.js';

export const CLOCK_OFFSETS = ['utc', 'localtime', 'variable', 'timezone', 'absolute'] as const;
export const CLOCK_BASES = ['utc', 'localtime'] as const;
export const TIMER_NAMES = ['platform', 'pit', 'rtc', 'hpet', 'tsc', 'kvmclock', 'hypervclock', 'armvtimer'] as const;
export const TIMER_TRACKS = ['none', 'boot', 'guest', 'wall', 'realtime'] as const;
export const TIMER_TICKPOLICIES = ['none', 'delay', 'catchup', 'merge', 'discard'] as const;
export const TIMER_MODES = ['none', 'auto', 'native', 'emulate', 'paravirt', 'smpsafe'] as const;

export interface TimerDef {
  name: (typeof TIMER_NAMES)[number];
  present?: boolean;
  tickpolicy?: Exclude<(typeof TIMER_TICKPOLICIES)[number], 'none'>;
  track?: Exclude<(typeof TIMER_TRACKS)[number], 'none'>;
  frequency?: bigint;
  mode?: Exclude<(typeof TIMER_MODES)[number], 'none'>;
  catchup?: { threshold?: bigint; slew?: bigint; limit?: bigint };
}

export interface ClockDef {
  offset: (typeof CLOCK_OFFSETS)[number];
  /** utc/localtime with adjustment='reset'. */
  adjustmentReset?: boolean;
  /** variable: seconds, and the basis it is relative to. */
  adjustment?: bigint;
  basis?: (typeof CLOCK_BASES)[number];
  /** variable: adjustment at start (status XML only). */
  adjustment0?: bigint;
  timezone?: string;
  start?: bigint;
  timers: TimerDef[];
}

export function parseClock(ctx: ParseContext, el: XmlElement | undefined): ClockDef {
  const clock: ClockDef = { offset: 'utc', timers: [] };
  if (!el) return clock;
  const offset = ctx.attr(el, 'offset');
  if (offset) {
    if (!(CLOCK_OFFSETS as readonly string[]).includes(offset)) {
      throw unsupported(`unknown clock offset '${offset}'`, { element: 'clock', attribute: 'offset', value: offset });
    }
    clock.offset = offset as ClockDef['offset'];
  }
  switch (clock.offset) {
    case 'utc':
    case 'localtime': {
      const adj = ctx.attr(el, 'adjustment');
      if (adj) {
        if (adj === 'reset') clock.adjustmentReset = true;
        else {
          const v = strToLongLong(adj, 10);
          if (v === undefined) throw xmlError(`unknown clock adjustment '${adj}'`, { element: 'clock', attribute: 'adjustment', value: adj });
          clock.basis = clock.offset;
          clock.offset = 'variable';
          clock.adjustment = v;
        }
      }
      break;
    }
    case 'variable': {
      clock.adjustment = strToLongLong(ctx.attr(el, 'adjustment') ?? '', 10) ?? 0n;
      const a0 = strToLongLong(ctx.attr(el, 'adjustment0') ?? '', 10);
      if (a0) clock.adjustment0 = a0;
      const basis = ctx.attr(el, 'basis');
      if (basis) {
        if (!(CLOCK_BASES as readonly string[]).includes(basis)) {
          throw unsupported(`unknown clock basis '${basis}'`, { element: 'clock', attribute: 'basis', value: basis });
        }
        clock.basis = basis as ClockDef['basis'];
      } else clock.basis = 'utc';
      break;
    }
    case 'timezone': {
      const tz = ctx.attr(el, 'timezone');
      if (!tz) throw internalError("missing 'timezone' attribute for clock with offset='timezone'", { element: 'clock', attribute: 'timezone' });
      clock.timezone = tz;
      break;
    }
    case 'absolute': {
      const start = strToULongLongP(ctx.attr(el, 'start') ?? '', 10);
      if (start === undefined) throw internalError("missing 'start' attribute for clock with offset='absolute'", { element: 'clock', attribute: 'start' });
      clock.start = start;
      break;
    }
  }
  for (const t of ctx.children(el, 'timer')) clock.timers.push(parseTimer(ctx, t));
  return clock;
}

function parseTimer(ctx: ParseContext, el: XmlElement): TimerDef {
  const timer: TimerDef = { name: ctx.enumProp(el, 'name', TIMER_NAMES, { required: true })! };
  const present = ctx.boolProp(el, 'present');
  if (present !== undefined) timer.present = present;
  const tp = ctx.enumProp(el, 'tickpolicy', TIMER_TICKPOLICIES, { nonzero: true });
  if (tp) timer.tickpolicy = tp as TimerDef['tickpolicy'];
  const track = ctx.enumProp(el, 'track', TIMER_TRACKS, { nonzero: true });
  if (track) timer.track = track as TimerDef['track'];
  const freq = ctx.ullProp(el, 'frequency');
  if (freq !== undefined) timer.frequency = freq;
  const mode = ctx.enumProp(el, 'mode', TIMER_MODES, { nonzero: true });
  if (mode) timer.mode = mode as TimerDef['mode'];
  const cu = ctx.child(el, 'catchup');
  if (cu) {
    const c: NonNullable<TimerDef['catchup']> = {};
    const th = ctx.ullProp(cu, 'threshold');
    const sl = ctx.ullProp(cu, 'slew');
    const li = ctx.ullProp(cu, 'limit');
    if (th !== undefined) c.threshold = th;
    if (sl !== undefined) c.slew = sl;
    if (li !== undefined) c.limit = li;
    timer.catchup = c;
  }
  return timer;
}

/** virDomainDefPostParseTimer: which timer settings are allowed on which timer. */
export function checkTimers(clock: ClockDef): void {
  for (const t of clock.timers) {
    if ((t.name === 'kvmclock' || t.name === 'hypervclock') && t.tickpolicy) {
      throw unsupported(`timer ${t.name} doesn't support setting of timer tickpolicy`);
    }
    if (t.tickpolicy !== 'catchup' && t.catchup && (t.catchup.threshold || t.catchup.limit || t.catchup.slew)) {
      throw xmlError("setting of timer catchup policies is only supported with tickpolicy='catchup'");
    }
    if (t.name !== 'tsc') {
      if (t.frequency) throw unsupported(`timer ${t.name} doesn't support setting of timer frequency`);
      if (t.mode) throw unsupported(`timer ${t.name} doesn't support setting of timer mode`);
    }
    if (t.name !== 'platform' && t.name !== 'rtc' && t.track) {
      throw unsupported(`timer ${t.name} doesn't support setting of timer track`);
    }
  }
}

export function formatClock(w: XmlWriter, clock: ClockDef, opts: { clockAdjust?: boolean } = {}): void {
  const attrs: Record<string, string | bigint | undefined> = { offset: clock.offset };
  switch (clock.offset) {
    case 'utc':
    case 'localtime':
      if (clock.adjustmentReset) attrs.adjustment = 'reset';
      break;
    case 'variable':
      attrs.adjustment = clock.adjustment ?? 0n;
      attrs.basis = clock.basis ?? 'utc';
      if (opts.clockAdjust && clock.adjustment0) attrs.adjustment0 = clock.adjustment0;
      break;
    case 'timezone':
      attrs.timezone = clock.timezone;
      break;
    case 'absolute':
      attrs.start = clock.start ?? 0n;
      break;
  }
  w.element('clock', attrs, (c) => {
    for (const t of clock.timers) {
      const ta: Record<string, string | bigint | undefined> = {
        name: t.name,
        present: yesNo(t.present),
        tickpolicy: t.tickpolicy,
        track: t.track,
      };
      if (t.name === 'tsc') {
        if (t.frequency) ta.frequency = t.frequency;
        ta.mode = t.mode;
      }
      const cu = t.catchup;
      c.element('timer', ta, (tc) => {
        if (cu) tc.element('catchup', { threshold: cu.threshold || undefined, slew: cu.slew || undefined, limit: cu.limit || undefined });
      });
    }
  });
}

// <on_poweroff>, <on_reboot>, <on_crash>, <on_lockfailure> and <pm>.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ParseContext, unsupported, yesNo } from './parseContext.js';

export const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'] as const;
export const LOCK_FAILURE_ACTIONS = ['default', 'poweroff', 'restart', 'pause', 'ignore'] as const;

export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];
export type LockFailureAction = Exclude<(typeof LOCK_FAILURE_ACTIONS)[number], 'default'>;

export interface LifecycleDef {
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  onLockfailure?: LockFailureAction;
  pm?: { suspendToMem?: boolean; suspendToDisk?: boolean };
}

function action<T extends string>(ctx: ParseContext, root: XmlElement, name: string, values: readonly T[], dflt: T): T {
  const text = ctx.childText(root, name);
  if (!text) return dflt;
  if (!values.includes(text as T)) throw unsupported(`unknown ${name} action: ${text}`, { element: name, value: text });
  return text as T;
}

export function parseLifecycle(ctx: ParseContext, root: XmlElement): LifecycleDef {
  const def: LifecycleDef = {
    onReboot: action(ctx, root, 'on_reboot', LIFECYCLE_ACTIONS, 'restart'),
    onPoweroff: action(ctx, root, 'on_poweroff', LIFECYCLE_ACTIONS, 'destroy'),
    onCrash: action(ctx, root, 'on_crash', LIFECYCLE_ACTIONS, 'destroy'),
  };
  const lf = action(ctx, root, 'on_lockfailure', LOCK_FAILURE_ACTIONS, 'default');
  if (lf !== 'default') def.onLockfailure = lf;
  const pmEl = ctx.child(root, 'pm');
  if (pmEl) {
    const mem = ctx.child(pmEl, 'suspend-to-mem');
    const disk = ctx.child(pmEl, 'suspend-to-disk');
    const pm: NonNullable<LifecycleDef['pm']> = {};
    const s3 = mem ? ctx.boolProp(mem, 'enabled') : undefined;
    const s4 = disk ? ctx.boolProp(disk, 'enabled') : undefined;
    if (s3 !== undefined) pm.suspendToMem = s3;
    if (s4 !== undefined) pm.suspendToDisk = s4;
    if (s3 !== undefined || s4 !== undefined) def.pm = pm;
  }
  return def;
}

export function formatLifecycle(w: XmlWriter, def: LifecycleDef): void {
  w.text('on_poweroff', def.onPoweroff);
  w.text('on_reboot', def.onReboot);
  w.text('on_crash', def.onCrash);
  if (def.onLockfailure) w.text('on_lockfailure', def.onLockfailure);
  const pm = def.pm;
  if (pm && (pm.suspendToMem !== undefined || pm.suspendToDisk !== undefined)) {
    w.open('pm');
    if (pm.suspendToMem !== undefined) w.empty('suspend-to-mem', { enabled: yesNo(pm.suspendToMem) });
    if (pm.suspendToDisk !== undefined) w.empty('suspend-to-disk', { enabled: yesNo(pm.suspendToDisk) });
    w.close('pm');
  }
}

// Event MESSAGEs of the remote program for every domain event id (0-26) and the network
// lifecycle event: which procedure carries each, and the conversion between the message body
// and the Driver interface's event objects.
//
// Three body shapes exist: ids 0-15 wrap the legacy body ({callbackID, msg: {dom, …}});
// PMWAKEUP, PMSUSPEND and PMSUSPEND_DISK add a reason next to the wrapped body; ids 16+ are flat
// ({callbackID, dom, …}) and have no legacy message. A legacy registration (105 or 167) gets the
// legacy procedure, whose body has no callbackID.
import type { DomainEvent, NetworkEvent, TypedParam } from '../drivers/driver.js';
import type { Codec } from '../rpc/xdr.js';
import { typedParamFromWire, typedParamToWire } from './convert.js';
import * as P from './protocol.js';

type Shape = 'wrapped' | 'reason' | 'flat';

export interface DomainEventWire {
  eventId: number;
  /** MESSAGE procedure sent for a 316 (callback) registration. */
  proc: number;
  /** MESSAGE procedure sent for a legacy 167/105 registration; null for ids 16+. */
  legacyProc: number | null;
  shape: Shape;
}

const callbackProcs = [318, 319, 320, 321, 322, 323, 324, 325, 326, 327, 328, 329, 330, 331, 332, 333, 339, 346, 348, 354, 359, 363, 367, 379, 385, 423, 438];
const legacyProcs = [107, 169, 170, 171, 172, 173, 195, 224, 241, 248, 268, 269, 270, 276, 292, 311];

/** By DomainEventID. */
export const domainEventWire: readonly DomainEventWire[] = callbackProcs.map((proc, eventId) => ({
  eventId,
  proc,
  legacyProc: legacyProcs[eventId] ?? null,
  shape: eventId === 11 || eventId === 12 || eventId === 14 ? 'reason' : eventId < 16 ? 'wrapped' : 'flat',
}));

/** DomainEventWire by its callback or legacy procedure number. */
const byProc = new Map<number, { wire: DomainEventWire; legacy: boolean }>();
for (const w of domainEventWire) {
  byProc.set(w.proc, { wire: w, legacy: false });
  if (w.legacyProc !== null) byProc.set(w.legacyProc, { wire: w, legacy: true });
}

export const NETWORK_EVENT_LIFECYCLE_PROC = P.Procedure.NETWORK_EVENT_LIFECYCLE;
export const CONNECTION_CLOSED_PROC = P.Procedure.CONNECT_EVENT_CONNECTION_CLOSED;

export function messageCodec(proc: number): Codec<any> {
  return P.procedures[proc]!.args;
}

const hasParams = (eventId: number): boolean => eventId === 17 || eventId === 21;

/** The event's own fields (no eventId, no dom), converted for the wire. */
function fieldsToWire(ev: DomainEvent): Record<string, unknown> {
  const { eventId: _id, dom: _dom, ...rest } = ev as DomainEvent & Record<string, unknown>;
  if (hasParams(ev.eventId)) (rest as { params: unknown }).params = (rest.params as TypedParam[]).map(typedParamToWire);
  return rest;
}

function fieldsFromWire(eventId: number, body: Record<string, unknown>): Record<string, unknown> {
  const { callbackID: _cb, dom: _dom, msg: _msg, ...rest } = body;
  if (hasParams(eventId)) rest.params = (rest.params as P.TypedParam[]).map(typedParamFromWire);
  return rest;
}

/** Body of the callback MESSAGE (316 registrations) for ev. */
export function domainEventToMessage(callbackID: number, ev: DomainEvent): { proc: number; body: unknown } {
  const w = domainEventWire[ev.eventId]!;
  const fields = fieldsToWire(ev);
  switch (w.shape) {
    case 'wrapped':
      return { proc: w.proc, body: { callbackID, msg: { dom: ev.dom, ...fields } } };
    case 'reason':
      return { proc: w.proc, body: { callbackID, reason: (fields.reason as number) ?? 0, msg: { dom: ev.dom } } };
    case 'flat':
      return { proc: w.proc, body: { callbackID, dom: ev.dom, ...fields } };
  }
}

/** Body of the legacy MESSAGE (105/167 registrations), or null for ids without one. */
export function domainEventToLegacyMessage(ev: DomainEvent): { proc: number; body: unknown } | null {
  const w = domainEventWire[ev.eventId]!;
  if (w.legacyProc === null) return null;
  const fields = w.shape === 'reason' ? {} : fieldsToWire(ev);
  return { proc: w.legacyProc, body: { dom: ev.dom, ...fields } };
}

/**
 * A received domain event MESSAGE: the callbackID (null for legacy messages) and the event.
 * null when proc is not a domain event.
 */
export function domainEventFromMessage(proc: number, body: Record<string, any>): { callbackID: number | null; ev: DomainEvent } | null {
  const hit = byProc.get(proc);
  if (!hit) return null;
  const { wire, legacy } = hit;
  const eventId = wire.eventId;
  if (legacy) {
    const ev = { eventId, dom: body.dom, ...fieldsFromWire(eventId, body) } as DomainEvent;
    // Legacy PM messages have no reason: libvirt reports 0.
    if (wire.shape === 'reason') (ev as { reason: number }).reason = 0;
    return { callbackID: null, ev };
  }
  switch (wire.shape) {
    case 'wrapped':
      return { callbackID: body.callbackID, ev: { eventId, dom: body.msg.dom, ...fieldsFromWire(eventId, body.msg) } as DomainEvent };
    case 'reason':
      return { callbackID: body.callbackID, ev: { eventId, dom: body.msg.dom, reason: body.reason } as DomainEvent };
    case 'flat':
      return { callbackID: body.callbackID, ev: { eventId, dom: body.dom, ...fieldsFromWire(eventId, body) } as DomainEvent };
  }
}

export function networkEventToMessage(callbackID: number, ev: NetworkEvent): P.NetworkEventLifecycleMsg {
  return { callbackID, net: ev.net, event: ev.event, detail: ev.detail };
}

export function networkEventFromMessage(body: P.NetworkEventLifecycleMsg): { callbackID: number; ev: NetworkEvent } {
  return { callbackID: body.callbackID, ev: { eventId: 0, net: body.net, event: body.event, detail: body.detail } };
}

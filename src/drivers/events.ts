// Event registrations of one connection to a local driver: who asked for which events of which
// domain or network. Drivers call emit*(); callbacks run later on the event loop, never inside
// the driver's own call, and in the order the events happened.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import type {
  DomainEvent,
  DomainEventCallback,
  DomainRef,
  NetworkEvent,
  NetworkEventCallback,
  NetworkRef,
} from './driver.js';

interface Registration<R, C> {
  target: R | null;
  eventId: number;
  cb: C;
}

export class EventBroker {
  private nextId = 1;
  private readonly domainRegs = new Map<number, Registration<DomainRef, DomainEventCallback>>();
  private readonly networkRegs = new Map<number, Registration<NetworkRef, NetworkEventCallback>>();

  /** Highest DomainEventID / NetworkEventID this build knows. */
  static readonly LAST_DOMAIN_EVENT = 26;
  static readonly LAST_NETWORK_EVENT = 0;

  domainRegister(dom: DomainRef | null, eventId: number, cb: DomainEventCallback): number {
    checkEventId(eventId, EventBroker.LAST_DOMAIN_EVENT);
    const id = this.nextId++;
    this.domainRegs.set(id, { target: dom, eventId, cb });
    return id;
  }

  networkRegister(net: NetworkRef | null, eventId: number, cb: NetworkEventCallback): number {
    checkEventId(eventId, EventBroker.LAST_NETWORK_EVENT);
    const id = this.nextId++;
    this.networkRegs.set(id, { target: net, eventId, cb });
    return id;
  }

  domainDeregister(id: number): void {
    if (!this.domainRegs.delete(id)) throw unknownCallback(id);
  }

  networkDeregister(id: number): void {
    if (!this.networkRegs.delete(id)) throw unknownCallback(id);
  }

  /** Forget every registration (connection closed). */
  clear(): void {
    this.domainRegs.clear();
    this.networkRegs.clear();
  }

  get size(): number {
    return this.domainRegs.size + this.networkRegs.size;
  }

  emitDomain(ev: DomainEvent): void {
    for (const r of this.domainRegs.values()) {
      if (r.eventId !== ev.eventId) continue;
      if (r.target && r.target.uuid !== ev.dom.uuid) continue;
      const cb = r.cb;
      setImmediate(() => cb(ev));
    }
  }

  emitNetwork(ev: NetworkEvent): void {
    for (const r of this.networkRegs.values()) {
      if (r.eventId !== ev.eventId) continue;
      if (r.target && r.target.uuid !== ev.net.uuid) continue;
      const cb = r.cb;
      setImmediate(() => cb(ev));
    }
  }
}

function checkEventId(eventId: number, last: number): void {
  if (!Number.isInteger(eventId) || eventId < 0 || eventId > last) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `unsupported event ID ${eventId}`, {
      value: String(eventId),
    });
  }
}

function unknownCallback(id: number) {
  return virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `could not find event callback ${id} for deletion`, {
    value: String(id),
  });
}

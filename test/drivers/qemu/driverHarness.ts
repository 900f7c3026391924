// Shared pieces of the QEMU driver tests: an embedded connection on a fresh root, an event
// recorder, and checks that nothing (QEMU, tap, status file) is left behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Connection, type Domain, type DomainEventMessage } from '../../../src/api/index.js';
import { GuestConsole } from '../../helpers/guest.js';

export interface RecordedEvent {
  name: string;
  eventId: number;
  event?: number;
  detail?: number;
  id: number;
  devAlias?: string;
}

/** Records every domain event of a connection, in order. */
export class EventLog {
  readonly events: RecordedEvent[] = [];
  private waiters: { pred: (e: RecordedEvent) => boolean; resolve(e: RecordedEvent): void }[] = [];

  static async attach(conn: Connection): Promise<EventLog> {
    const log = new EventLog();
    for (const eventId of [0, 1, 15, 19]) {
      await conn.domainEventRegisterAny(null, eventId, (ev: DomainEventMessage) => log.push(ev));
    }
    return log;
  }

  private push(ev: DomainEventMessage): void {
    const e = ev as DomainEventMessage & { event?: number; detail?: number; devAlias?: string };
    const rec: RecordedEvent = { name: e.dom.getName(), eventId: e.eventId, id: e.dom.getID() };
    if (e.event !== undefined) rec.event = e.event;
    if (e.detail !== undefined) rec.detail = e.detail;
    if (e.devAlias !== undefined) rec.devAlias = e.devAlias;
    this.events.push(rec);
    for (const w of [...this.waiters]) {
      if (w.pred(rec)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(rec);
      }
    }
  }

  /** Lifecycle (event, detail) pairs of one domain, in order. */
  lifecycle(name: string): [number, number][] {
    return this.events.filter((e) => e.name === name && e.eventId === 0).map((e) => [e.event!, e.detail!]);
  }

  /** Waits for an event (one already recorded counts). */
  wait(pred: (e: RecordedEvent) => boolean, timeoutMs = 60_000): Promise<RecordedEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`event not seen within ${timeoutMs} ms; got ${JSON.stringify(this.events)}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        },
      });
    });
  }

  clear(): void {
    this.events.length = 0;
  }
}

/** Destroys every running domain of a connection (a failed test must not leave QEMUs behind). */
export async function destroyAll(conn: Connection | undefined): Promise<void> {
  if (!conn || conn.closed) return;
  for (const dom of await conn.listAllDomains(1 /* ACTIVE */).catch(() => [])) {
    await dom.destroy().catch(() => undefined);
  }
}

export function embedURI(root: string): string {
  return `qemu:///embed?root=${root}`;
}

export async function openEmbed(root: string): Promise<Connection> {
  return open(embedURI(root));
}

/** Starts paused, opens the console, resumes: the console reader sees every byte the guest prints. */
export async function startWithConsole(dom: Domain): Promise<GuestConsole> {
  await dom.createWithFlags(1);
  const g = new GuestConsole(await dom.openConsole());
  await dom.resume();
  return g;
}

/** True while a process with this pid exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pid of a running domain, from its status file. */
export function statusPid(root: string, name: string): number {
  const text = readFileSync(join(root, 'run', 'qemu', `${name}.xml`), 'utf8');
  const m = /<domstatus [^>]*pid='(\d+)'/.exec(text);
  assert.ok(m, `no pid in the status file of ${name}`);
  return Number(m[1]);
}

/** Nothing of a stopped domain is left in the runtime directory. */
export function assertNoRuntimeLeft(root: string, name: string): void {
  assert.equal(existsSync(join(root, 'run', 'qemu', `${name}.xml`)), false, `status file of ${name} left behind`);
  const dirs = readdirSync(join(root, 'run', 'qemu')).filter((d) => d.startsWith('domain-') && d.endsWith(`-${name}`));
  assert.deepEqual(dirs, [], `runtime directory of ${name} left behind`);
}

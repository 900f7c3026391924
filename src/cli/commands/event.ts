import type { DomainEventMessage } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { OptionError } from '../shell.js';
import { DOMAIN_EVENT_NAMES, domainEventDetailString, domainEventString } from '../virshStrings.js';

const WATCHDOG = ['none', 'pause', 'reset', 'poweroff', 'shutdown', 'debug', 'inject-nmi'];
const IO_ERROR = ['none', 'pause', 'report'];
const TRAY = ['opened', 'closed'];
const AGENT_STATE = ['unknown', 'connected', 'disconnected'];
const AGENT_REASON = ['unknown', 'domain started', 'channel event'];
const DISK_CHANGE = ['changed', 'dropped', 'missing on start', 'dropped', 'dropped'];

/** The line virsh prints for an event. */
function formatDomainEvent(ev: DomainEventMessage): string {
  const name = DOMAIN_EVENT_NAMES[ev.eventId] ?? String(ev.eventId);
  const dom = ev.dom.getName();
  const head = `event '${name}' for domain '${dom}'`;
  switch (ev.eventId) {
    case 0:
      return `${head}: ${domainEventString(ev.event)} ${domainEventDetailString(ev.event, ev.detail)}\n`;
    case 2:
      return `${head}: ${ev.offset}\n`;
    case 3:
      return `${head}: ${WATCHDOG[ev.action] ?? 'unknown'}\n`;
    case 4:
      return `${head}: ${ev.srcPath} (${ev.devAlias}) ${IO_ERROR[ev.action] ?? 'unknown'}\n`;
    case 6:
      return `${head}: ${ev.srcPath} (${ev.devAlias}) ${IO_ERROR[ev.action] ?? 'unknown'} due to ${ev.reason}\n`;
    case 9:
      return `event '${name}' for domain '${dom}' disk ${ev.devAlias}: ${ev.oldSrcPath ?? ''} -> ${ev.newSrcPath ?? ''}: ${DISK_CHANGE[ev.reason] ?? 'unknown'}\n`;
    case 10:
      return `event '${name}' for domain '${dom}' disk ${ev.devAlias}: ${TRAY[ev.reason] ?? 'unknown'}\n`;
    case 13:
      return `${head}: ${ev.actual}KiB\n`;
    case 15:
    case 19:
    case 22:
      return `${head}: ${ev.devAlias}\n`;
    case 17:
    case 21:
      return `${head}:\n${ev.params.map((p) => `\t${p.field}: ${String(p.value)}\n`).join('')}`;
    case 18:
      return `${head}: state: '${AGENT_STATE[ev.state] ?? 'unknown'}' reason: '${AGENT_REASON[ev.reason] ?? 'unknown'}'\n`;
    case 20:
      return `${head}: iteration: '${ev.iteration}'\n`;
    case 24:
      return `${head}: dev: ${ev.dev}(${ev.path ?? ''}) ${ev.threshold} ${ev.excess}\n`;
    case 26:
      return `${head}:\nalias: ${ev.alias}\nsize: ${ev.size}\n`;
    default:
      return `${head}\n`;
  }
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}+0000`;
}

export const command: CommandDef = {
  name: 'event',
  help: 'Domain Events',
  desc: 'List event types, or wait for domain events to occur',
  opts: [
    { name: 'domain', type: 'string', help: 'filter by domain name, id or uuid' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    { name: 'all', type: 'bool', help: 'wait for all events instead of just one type' },
    { name: 'loop', type: 'bool', help: 'loop until timeout or interrupt, rather than one-shot' },
    { name: 'timeout', type: 'int', help: 'timeout seconds' },
    { name: 'list', type: 'bool', help: 'list valid event types' },
    { name: 'timestamp', type: 'bool', help: 'show timestamp for each printed event' },
  ],
  async run(sh, cmd) {
    sh.exclusive(cmd, 'list', 'all');
    sh.exclusive(cmd, 'list', 'event');
    if (sh.bool(cmd, 'list')) {
      for (const n of DOMAIN_EVENT_NAMES) sh.print(`${n}\n`);
      return true;
    }
    const eventName = sh.optString(cmd, 'event');
    const all = sh.bool(cmd, 'all');
    if (eventName === undefined && !all) return sh.fail('one of --list, --all, or --event <type> is required');
    let ids: number[];
    if (eventName !== undefined) {
      const id = DOMAIN_EVENT_NAMES.indexOf(eventName);
      if (id < 0) return sh.fail(`unknown event type ${eventName}`);
      ids = [id];
    } else {
      ids = DOMAIN_EVENT_NAMES.map((_, i) => i);
    }
    const loop = sh.bool(cmd, 'loop');
    const stamp = sh.bool(cmd, 'timestamp');
    const timeoutS = sh.optUInt(cmd, 'timeout');
    if (timeoutS !== undefined && (timeoutS === 0 || timeoutS > 2147483)) {
      throw new OptionError(`Numeric value '${cmd.get('timeout')}' for <timeout> option is malformed or out of range`);
    }
    let dom = null;
    if (cmd.has('domain')) {
      const found = await lookupDomain(sh, cmd);
      if (!found) return false;
      dom = found.dom;
    }
    const conn = sh.conn;
    let count = 0;
    let finish!: (how: 'done' | 'timeout' | 'interrupt') => void;
    const ended = new Promise<'done' | 'timeout' | 'interrupt'>((r) => (finish = r));
    const registered: number[] = [];
    const onEvent = (ev: DomainEventMessage): void => {
      if (!loop && count) return;
      sh.print(stamp ? `${timestamp()}: ${formatDomainEvent(ev)}` : formatDomainEvent(ev));
      count++;
      if (!loop) finish('done');
    };
    try {
      for (const id of ids) registered.push(await conn.domainEventRegisterAny(dom, id, onEvent));
    } catch (e) {
      for (const id of registered) await conn.domainEventDeregisterAny(id).catch(() => undefined);
      return sh.fail('failed to register event', e);
    }
    const timer = timeoutS !== undefined ? setTimeout(() => finish('timeout'), timeoutS * 1000) : undefined;
    const stopListening = sh.onInterrupt(() => finish('interrupt'));
    // Nothing else may keep Node's loop alive while we wait for events (local drivers hold no
    // socket): without this the process would simply exit.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const how = await ended;
    clearInterval(keepAlive);
    stopListening();
    if (timer) clearTimeout(timer);
    for (const id of registered) await conn.domainEventDeregisterAny(id).catch(() => undefined);
    if (how === 'interrupt') sh.print('event loop interrupted\n');
    else if (how === 'timeout') sh.print('event loop timed out\n');
    sh.print(`events received: ${count}\n`);
    return count > 0;
  },
};

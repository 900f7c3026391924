// A simulated kernel at the netlink datagram seam, for hardware no test machine has (SR-IOV
// PFs and VFs). It takes the place of the raw NETLINK_ROUTE socket under RtNetlink, so the
// `netlink` package's framing, sequence numbers and reply matching, and tsvirt's codecs, all run
// unchanged. It keeps a small link table (PF netdevs with their VF admin MAC/VLAN table, VF
// netdevs, macvtaps created on them), records every request with its exact bytes, and answers
// each kind of request with success or with an errno (or a malformed reply, or silence) chosen
// by the test.
import { EventEmitter } from 'node:events';
import { formatLinkMessage, parseLinkMessage, type LinkMessage, type VfInfo } from '../../src/host/ifla.js';
import { formatMac, parseMac } from '../../src/host/macAddress.js';
import type { NetlinkEndpoint } from '../../src/host/netlink.js';
import { errnoNames } from '../../src/errors/index.js';

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_MULTI = 2;
const NLM_F_DUMP = 0x300;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const ENODEV = 19;
const EEXIST = 17;

export interface SimLink {
  index: number;
  name: string;
  mac: string;
  mtu: number;
  up: boolean;
  kind: string | null;
  lowerIndex?: number;
  macvlanMode?: number;
  /** For a PF: the admin MAC and VLAN the PF holds per VF. */
  vfs?: { mac: string; vlan: number }[];
}

/** What a request asked for, as the simulated kernel understood it. */
export type RequestKind =
  | 'getLink'
  | 'dumpLinks'
  | 'setVfMac'
  | 'setVfVlan'
  | 'setAddress'
  | 'setMtu'
  | 'setFlags'
  | 'setMaster'
  | 'setLink'
  | 'newLink'
  | 'delLink';

export interface SimRequest {
  kind: RequestKind;
  /** The whole datagram as sent (nlmsghdr included). */
  bytes: Buffer;
  type: number;
  flags: number;
  seq: number;
  ifname?: string;
  index: number;
  vf?: number;
  mac?: string;
  vlan?: number;
  qos?: number;
  message: LinkMessage;
}

/** How to answer: an errno (positive), a reply that is not an ACK, no reply, or a send failure. */
export type SimAnswer = number | 'malformed' | 'silence' | 'sendError';

interface Rule {
  kind: RequestKind;
  answer: SimAnswer;
  times: number;
  match?: (r: SimRequest) => boolean;
}

function describeNewLink(m: LinkMessage): string {
  const info = m.attrs.linkinfo;
  const mode = info && 'macvlan' in info ? info.macvlan?.mode : undefined;
  return [info?.kind, mode !== undefined ? `mode ${mode}` : '', m.attrs.link !== undefined ? `link #${m.attrs.link}` : '', m.link.flags?.up ? 'up' : 'down']
    .filter(Boolean)
    .join(' ');
}

export class SimulatedKernelNetlink extends EventEmitter implements NetlinkEndpoint {
  readonly links = new Map<string, SimLink>();
  readonly requests: SimRequest[] = [];
  /**
   * One line per changing request, in order ("setVfMac enp2s0f0 vf1 52:54:00:6d:90:02",
   * "setVfVlan enp2s0f0 vf1 vlan 0 -> EPERM"); a simulated sysfs appends its writes here too.
   */
  readonly log: string[] = [];
  private rules: Rule[] = [];
  private nextIndex = 2;
  private readonly port = 0x7000_0000 + (process.pid & 0xffff);
  closed = false;

  // --- the link table ---------------------------------------------------------------------

  addLink(l: Omit<SimLink, 'index' | 'mtu' | 'up' | 'kind'> & Partial<Pick<SimLink, 'index' | 'mtu' | 'up' | 'kind'>>): SimLink {
    const link: SimLink = { mtu: 1500, up: false, kind: null, index: l.index ?? this.nextIndex++, ...l };
    if (link.index >= this.nextIndex) this.nextIndex = link.index + 1;
    this.links.set(link.name, link);
    return link;
  }

  removeLink(name: string): void {
    this.links.delete(name);
  }

  link(name: string): SimLink | undefined {
    return this.links.get(name);
  }

  // --- answers and the record -------------------------------------------------------------

  /** Answer the next `times` requests of `kind` (matching `match`) with `answer`. */
  answer(kind: RequestKind, answer: SimAnswer, options: { times?: number; match?: (r: SimRequest) => boolean } = {}): this {
    this.rules.push({ kind, answer, times: options.times ?? Infinity, ...(options.match ? { match: options.match } : {}) });
    return this;
  }

  clearAnswers(): void {
    this.rules = [];
  }

  /** The requests that changed something (everything but reads). */
  changes(): SimRequest[] {
    return this.requests.filter((r) => r.kind !== 'getLink' && r.kind !== 'dumpLinks');
  }

  // --- NetlinkEndpoint ---------------------------------------------------------------------

  address(): { port: number; groups: number } {
    return { port: this.port, groups: 0 };
  }
  ref(): void {}
  unref(): void {}
  close(): void {
    this.closed = true;
  }

  send(msg: Uint8Array | Uint8Array[], _options?: unknown, callback?: (error?: Error) => void): void {
    const bytes = Buffer.concat((Array.isArray(msg) ? msg : [msg]).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    const len = bytes.readUInt32LE(0);
    const type = bytes.readUInt16LE(4);
    const flags = bytes.readUInt16LE(6);
    const seq = bytes.readUInt32LE(8);
    const message = parseLinkMessage(bytes.subarray(16, len));
    const reqs = this.classify(bytes, type, flags, seq, message);
    this.requests.push(...reqs);

    // The first request part with a rule decides the answer (one message = one answer).
    let answer: SimAnswer | undefined;
    for (const r of reqs) {
      const rule = this.rules.find((x) => x.kind === r.kind && x.times > 0 && (!x.match || x.match(r)));
      if (rule) {
        rule.times--;
        answer = rule.answer;
        break;
      }
    }
    for (const r of reqs) {
      if (r.kind === 'getLink' || r.kind === 'dumpLinks') continue;
      const what = [
        r.kind,
        r.ifname ?? `#${r.index}`,
        r.vf !== undefined ? `vf${r.vf}` : '',
        r.mac ?? '',
        r.vlan !== undefined ? `vlan ${r.vlan}` : '',
        r.kind === 'setFlags' ? (r.message.link.flags?.up ? 'up' : 'down') : '',
        r.kind === 'newLink' ? describeNewLink(r.message) : '',
      ]
        .filter(Boolean)
        .join(' ');
      this.log.push(typeof answer === 'number' ? `${what} -> ${errnoNames[answer] ?? answer}` : answer ? `${what} -> ${answer}` : what);
    }
    if (answer === 'sendError') {
      const err = Object.assign(new Error('send ENOBUFS'), { errno: 105, code: 'ENOBUFS', syscall: 'send' });
      setImmediate(() => callback?.(err));
      return;
    }
    setImmediate(() => callback?.());
    if (answer === 'silence') return;
    if (answer === 'malformed') {
      this.deliver([this.header(RTM_NEWLINK, 0, seq, Buffer.concat(formatLinkMessage({ link: {}, attrs: { ifname: 'x' } }).map((b) => Buffer.from(b))))]);
      return;
    }
    if (typeof answer === 'number') {
      this.deliver([this.error(-answer, bytes.subarray(0, 16), seq)]);
      return;
    }
    this.deliver(this.execute(reqs, type, flags, seq, message, bytes));
  }

  private classify(bytes: Buffer, type: number, flags: number, seq: number, message: LinkMessage): SimRequest[] {
    const base = { bytes, type, flags, seq, index: message.link.index ?? 0, ifname: message.attrs.ifname, message };
    if (type === RTM_GETLINK) return [{ ...base, kind: (flags & NLM_F_DUMP) === NLM_F_DUMP ? 'dumpLinks' : 'getLink' }];
    if (type === RTM_NEWLINK) return [{ ...base, kind: 'newLink' }];
    if (type === RTM_DELLINK) return [{ ...base, kind: 'delLink' }];
    const out: SimRequest[] = [];
    for (const vf of message.attrs.vfinfoList ?? []) {
      if (vf.mac) out.push({ ...base, kind: 'setVfMac', vf: vf.mac.vf, mac: formatMac(vf.mac.mac) });
      if (vf.vlan) out.push({ ...base, kind: 'setVfVlan', vf: vf.vlan.vf, vlan: vf.vlan.vlan, qos: vf.vlan.qos });
    }
    if (message.attrs.address) out.push({ ...base, kind: 'setAddress', mac: formatMac(message.attrs.address) });
    if (message.attrs.mtu !== undefined) out.push({ ...base, kind: 'setMtu' });
    if (message.link.change && Object.keys(message.link.change).length > 0) out.push({ ...base, kind: 'setFlags' });
    if (message.attrs.master !== undefined) out.push({ ...base, kind: 'setMaster' });
    if (out.length === 0) out.push({ ...base, kind: 'setLink' });
    return out;
  }

  private find(message: LinkMessage): SimLink | undefined {
    const index = message.link.index ?? 0;
    if (index > 0) return [...this.links.values()].find((l) => l.index === index);
    return message.attrs.ifname ? this.links.get(message.attrs.ifname) : undefined;
  }

  /** Default behaviour: apply the request to the link table and answer as the kernel would. */
  private execute(reqs: SimRequest[], type: number, flags: number, seq: number, message: LinkMessage, bytes: Buffer): Buffer[] {
    const hdr = bytes.subarray(0, 16);
    const ack = () => [this.error(0, hdr, seq)];
    if (type === RTM_GETLINK) {
      if ((flags & NLM_F_DUMP) === NLM_F_DUMP) {
        return [...[...this.links.values()].map((l) => this.header(RTM_NEWLINK, NLM_F_MULTI, seq, this.linkPayload(l, false))), this.header(NLMSG_DONE, NLM_F_MULTI, seq, Buffer.alloc(4))];
      }
      const l = this.find(message);
      if (!l) return [this.error(-ENODEV, hdr, seq)];
      return [this.header(RTM_NEWLINK, 0, seq, this.linkPayload(l, !!message.attrs.extMask?.vf)), ...ack()];
    }
    if (type === RTM_NEWLINK) {
      const name = message.attrs.ifname ?? '';
      if (this.links.has(name)) return [this.error(-EEXIST, hdr, seq)];
      const info = message.attrs.linkinfo;
      const lower = message.attrs.link;
      const lowerLink = [...this.links.values()].find((l) => l.index === lower);
      const mode = info && 'macvlan' in info ? info.macvlan?.mode : undefined;
      this.addLink({
        name,
        kind: info?.kind ?? null,
        // passthrough shares the lower device's MAC, as the kernel does
        mac: mode === 8 && lowerLink ? lowerLink.mac : message.attrs.address ? formatMac(message.attrs.address) : '02:00:00:00:00:01',
        ...(lower !== undefined ? { lowerIndex: lower } : {}),
        ...(mode !== undefined ? { macvlanMode: mode } : {}),
      });
      return ack();
    }
    const l = this.find(message);
    if (!l) return [this.error(-ENODEV, hdr, seq)];
    if (type === RTM_DELLINK) {
      this.links.delete(l.name);
      return ack();
    }
    for (const r of reqs) {
      if (r.kind === 'setVfMac' || r.kind === 'setVfVlan') {
        const vf = l.vfs?.[r.vf!];
        if (!vf) return [this.error(-22, hdr, seq)];
        if (r.kind === 'setVfMac') vf.mac = r.mac!;
        else vf.vlan = r.vlan!;
      } else if (r.kind === 'setAddress') l.mac = r.mac!;
      else if (r.kind === 'setMtu') l.mtu = message.attrs.mtu!;
      else if (r.kind === 'setFlags') l.up = !!message.link.flags?.up;
    }
    return ack();
  }

  private linkPayload(l: SimLink, withVfs: boolean): Buffer {
    const vfinfoList: VfInfo[] | undefined =
      withVfs && l.vfs ? l.vfs.map((v, vf) => ({ mac: { vf, mac: parseMac(v.mac)! }, vlan: { vf, vlan: v.vlan, qos: 0 } })) : undefined;
    const linkinfo = l.kind ? (l.macvlanMode !== undefined ? { kind: l.kind, macvlan: { mode: l.macvlanMode } } : { kind: l.kind }) : undefined;
    const msg: LinkMessage = {
      link: { index: l.index, flags: l.up ? { up: true } : {} },
      attrs: {
        ifname: l.name,
        address: Buffer.from(parseMac(l.mac)!),
        mtu: l.mtu,
        ...(l.lowerIndex !== undefined ? { link: l.lowerIndex } : {}),
        ...(linkinfo ? { linkinfo } : {}),
        ...(l.vfs ? { numVf: l.vfs.length } : {}),
        ...(vfinfoList ? { vfinfoList } : {}),
      },
    };
    return Buffer.concat(formatLinkMessage(msg).map((b) => Buffer.from(b)));
  }

  private header(type: number, flags: number, seq: number, payload: Buffer): Buffer {
    const h = Buffer.alloc(16);
    const len = 16 + payload.length;
    h.writeUInt32LE(len, 0);
    h.writeUInt16LE(type, 4);
    h.writeUInt16LE(flags, 6);
    h.writeUInt32LE(seq, 8);
    h.writeUInt32LE(this.port, 12);
    const pad = (4 - (len % 4)) % 4;
    return Buffer.concat([h, payload, Buffer.alloc(pad)]);
  }

  /** NLMSG_ERROR carrying `error` (0 = ACK, else −errno) and the request's header. */
  private error(error: number, requestHeader: Buffer, seq: number): Buffer {
    const p = Buffer.alloc(4);
    p.writeInt32LE(error, 0);
    return this.header(NLMSG_ERROR, 0, seq, Buffer.concat([p, requestHeader]));
  }

  private deliver(msgs: Buffer[]): void {
    setImmediate(() => {
      if (this.closed) return;
      // the kernel sends each reply message in its own datagram unless multipart
      const multi = msgs.length > 1 && (msgs[0]!.readUInt16LE(6) & NLM_F_MULTI) !== 0;
      if (multi) this.emit('message', Buffer.concat(msgs), { port: 0, groups: 0 });
      else for (const m of msgs) this.emit('message', m, { port: 0, groups: 0 });
    });
  }
}

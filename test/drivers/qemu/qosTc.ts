// Reading a bridge's tc state back from the real kernel for the QoS tests: the u32 floor filters
// (which MAC each one matches, at the spec's offsets), the htb classes and their counters.
import { execFileSync, spawnSync } from 'node:child_process';

export interface FloorFilter {
  /** u32 node handle, e.g. "800::803". */
  handle: string;
  flowid: string;
  /** The Ethernet destination MAC the filter matches (from the keys at -16 and -12). */
  mac: string;
  /** The key at -4 holds the EtherType 0x0800 (IPv4). */
  ipv4: boolean;
}

function tc(args: string[]): string {
  return execFileSync('tc', args, { encoding: 'utf8' });
}

/**
 * The u32 handles of `dev`'s filters in order ("800:" is the hash table) and the floor filters
 * among them. The keys appear as the 32-bit words containing them: u16 at -2 → word at -4,
 * u16 at -14 → word at -16 (low half), u32 at -12 as is.
 */
export function floorFilters(dev: string): { handles: string[]; filters: FloorFilter[] } {
  const handles: string[] = [];
  const filters: FloorFilter[] = [];
  let cur: { handle: string; flowid: string; keys: Map<number, [string, string]> } | undefined;
  const flush = (): void => {
    if (!cur) return;
    const hi = cur.keys.get(-16);
    const lo = cur.keys.get(-12);
    const et = cur.keys.get(-4);
    if (hi && lo && hi[1] === '0000ffff' && lo[1] === 'ffffffff') {
      const hex = hi[0].slice(4) + lo[0];
      filters.push({
        handle: cur.handle,
        flowid: cur.flowid,
        mac: hex.match(/../g)!.join(':'),
        ipv4: et?.[0] === '00000800' && et[1] === '0000ffff',
      });
    }
    cur = undefined;
  };
  for (const line of tc(['filter', 'show', 'dev', dev]).split('\n')) {
    const fh = / fh (\S+)/.exec(line);
    if (fh) {
      flush();
      handles.push(fh[1]!);
      const flow = /flowid (\S+)/.exec(line);
      if (flow) cur = { handle: fh[1]!, flowid: flow[1]!, keys: new Map() };
      continue;
    }
    const m = /^\s+match ([0-9a-f]{8})\/([0-9a-f]{8}) at (-?\d+)/.exec(line);
    if (m && cur) cur.keys.set(Number(m[3]), [m[1]!, m[2]!]);
  }
  flush();
  return { handles, filters };
}

export interface HtbClass {
  id: string;
  parent: string;
  leaf?: string;
  /** The rate in kilobytes/s, the unit of the XML (tc prints bits: "1600Kbit" = 200). */
  rate: number;
  packets: number;
}

/** tc's "1600Kbit", "40Mbit", "512bit" as kilobytes/s (tc's kbps: 8000 bit/s). */
export function kiloBytesPerSecond(tcRate: string): number {
  const m = /^([\d.]+)([KMG]?)bit$/.exec(tcRate);
  if (!m) throw new Error(`not a tc rate: ${tcRate}`);
  const scale = { '': 1, K: 1e3, M: 1e6, G: 1e9 }[m[2] as '' | 'K' | 'M' | 'G'];
  return (Number(m[1]) * scale) / 8000;
}

export function htbClasses(dev: string): HtbClass[] {
  const out: HtbClass[] = [];
  const text = tc(['-s', 'class', 'show', 'dev', dev]);
  for (const block of text.split(/\n(?=class )/)) {
    const m = /^class htb (\S+) (?:parent (\S+)|root)(?: leaf (\S+))?.* rate (\S+)/.exec(block);
    if (!m) continue;
    const sent = /Sent \d+ bytes (\d+) pkt/.exec(block);
    out.push({ id: m[1]!, parent: m[2] ?? 'root', ...(m[3] ? { leaf: m[3] } : {}), rate: kiloBytesPerSecond(m[4]!), packets: Number(sent?.[1] ?? 0) });
  }
  return out;
}

/** Handles of the qdiscs on `dev` ("1:", "3:", …). */
export function qdiscHandles(dev: string): string[] {
  return tc(['qdisc', 'show', 'dev', dev])
    .split('\n')
    .map((l) => /^qdisc \S+ (\S+)/.exec(l)?.[1])
    .filter((h): h is string => !!h);
}

/** The kind of `dev`'s root qdisc ("htb", "noqueue", "pfifo_fast", …). */
export function rootQdisc(dev: string): string | undefined {
  return /^qdisc (\S+) \S+ root/m.exec(tc(['qdisc', 'show', 'dev', dev]))?.[1];
}

/** `tc filter del dev DEV prio 2 handle 800:: u32`: what old libvirt did on a MAC change. */
export function deleteHashTable(dev: string): { status: number | null; stderr: string } {
  const r = spawnSync('tc', ['filter', 'del', 'dev', dev, 'prio', '2', 'handle', '800::', 'u32'], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

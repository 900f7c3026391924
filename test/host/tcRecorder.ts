// Test support for the tc tests: a runner that runs tc for real and records every argv with
// its exit status, a probe for the qdisc/classifier/action kinds this kernel was built with,
// and readers for the kernel's tc state.
import { execFileSync, spawnSync } from 'node:child_process';
import { spawnTcRunner, type TcResult, type TcRunner } from '../../src/host/tc.js';

export interface RecordedRun {
  args: string[];
  status: number | null;
  stderr: string;
}

export class RecordingTcRunner implements TcRunner {
  readonly runs: RecordedRun[] = [];
  private readonly real = spawnTcRunner();

  async run(binary: string, args: readonly string[]): Promise<TcResult> {
    const res = await this.real.run(binary, args);
    this.runs.push({ args: [...args], status: res.status, stderr: res.stderr });
    return res;
  }

  /** Every argv run so far, joined with spaces (the spec's notation). */
  lines(): string[] {
    return this.runs.map((r) => r.args.join(' '));
  }

  reset(): void {
    this.runs.length = 0;
  }
}

export interface TcSupport {
  sfq: boolean;
  fw: boolean;
  police: boolean;
}

/**
 * Which of the kinds libvirt's commands use this kernel accepts (this machine's kernel lacks
 * sch_sfq, cls_fw and act_police). Tried on a scratch veth in the current namespace.
 */
export function probeTcSupport(): TcSupport {
  const dev = `tsvprobe${process.pid % 10000}`;
  const ok = (args: string[]) => spawnSync('tc', args, { stdio: 'ignore' }).status === 0;
  execFileSync('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`]);
  try {
    ok(['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb']);
    ok(['class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '1kbps']);
    return {
      sfq: ok(['qdisc', 'add', 'dev', dev, 'parent', '1:1', 'handle', '2:', 'sfq', 'perturb', '10']),
      fw: ok(['filter', 'add', 'dev', dev, 'parent', '1:0', 'protocol', 'all', 'prio', '1', 'handle', '1', 'fw', 'flowid', '1']),
      police:
        ok(['qdisc', 'add', 'dev', dev, 'ingress']) &&
        ok(['filter', 'add', 'dev', dev, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'police', 'rate', '1kbps', 'burst', '1kb', 'mtu', '64kb', 'drop', 'flowid', ':1']),
    };
  } finally {
    execFileSync('ip', ['link', 'del', dev]);
  }
}

/**
 * The argv list tsvirt runs for a spec sequence on this kernel: each sfq leaf the kernel
 * refuses is followed by its pfifo stand-in (bandwidth.ts, addFairQueue).
 */
export function withFallbacks(spec: string[], support: TcSupport): string[] {
  const out: string[] = [];
  for (const line of spec) {
    out.push(line);
    if (!support.sfq && line.endsWith(' sfq perturb 10')) out.push(line.replace(/ sfq perturb 10$/, ' pfifo'));
  }
  return out;
}

/** `tc [-d|-s] <what> show dev <dev>`. */
export function tcShow(what: 'qdisc' | 'class' | 'filter', dev: string, flag: '-d' | '-s' = '-d'): string {
  return execFileSync('tc', [flag, what, 'show', 'dev', dev]).toString();
}

/** The whole tc state of a device, device name replaced, for comparing two devices. */
export function tcState(dev: string): string {
  const all = ['qdisc', 'class', 'filter'].map((w) => `## ${w}\n${tcShow(w as 'qdisc', dev)}`).join('');
  // Ingress filters live under parent ffff:, shown only when asked for.
  const ingress = execFileSync('tc', ['-d', 'filter', 'show', 'dev', dev, 'parent', 'ffff:']).toString();
  return (all + `## ingress filter\n${ingress}`).split(dev).join('DEV');
}

/** Packets sent through class 1:<hex> of `dev` (from `tc -s class show`). */
export function classPackets(dev: string, classId: string): number {
  const out = tcShow('class', dev, '-s');
  const blocks = out.split(/\n(?=class )/);
  const block = blocks.find((b) => b.startsWith(`class htb ${classId} `));
  if (!block) return -1;
  const m = /Sent \d+ bytes (\d+) pkt/.exec(block);
  return m ? Number(m[1]) : -1;
}

/**
 * Success count of u32 filter `handle` of `dev` ("rule hit N success M"); null when the kernel
 * keeps no u32 counters (CONFIG_CLS_U32_PERF unset, as on this machine) or the filter is absent.
 */
export function filterHits(dev: string, handle: string): number | null {
  const out = tcShow('filter', dev, '-s');
  const blocks = out.split(/\n(?=filter )/);
  const block = blocks.find((b) => b.includes(` fh ${handle} `));
  const m = block ? /success (\d+)/.exec(block) : null;
  return m ? Number(m[1]) : null;
}

/** The u32 filter handles of prio 2 on `dev`, e.g. ['800:', '800::803']. */
export function u32Handles(dev: string): string[] {
  return [...tcShow('filter', dev).matchAll(/ fh (\S+)/g)].map((m) => m[1]!);
}

/** The destination-MAC matches of the filter with `handle` ("00123456/ffffffff at -12" …). */
export function filterMatches(dev: string, handle: string): string[] {
  const out = tcShow('filter', dev);
  const blocks = out.split(/\n(?=filter )/);
  const block = blocks.find((b) => b.includes(` fh ${handle} `));
  return block ? [...block.matchAll(/match (\S+ at -?\d+)/g)].map((m) => m[1]!) : [];
}

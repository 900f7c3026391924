// What the network driver tests share: a test network namespace with a driver state on temporary
// directories, a recording command runner (every nft/dnsmasq argv, still run for real), a
// recording tc runner, and small host probes (links, addresses, nft tables, sysctls).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetDevBandwidth } from '../../../src/host/bandwidth.js';
import { RtNetlink } from '../../../src/host/netlink.js';
import { Tc, spawnTcRunner, type TcRunner } from '../../../src/host/tc.js';
import { spawnCommandRunner, type CommandRunner } from '../../../src/drivers/network/commandRunner.js';
import { NetworkDriverState, type NetworkDriverStateOptions } from '../../../src/drivers/network/networkDriverState.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';

export const TAG = 'netdrv';

/** Every program run, as "binary arg…" (stdin not included). */
export class RecordingRunner implements CommandRunner {
  readonly calls: { binary: string; args: string[]; input?: string }[] = [];
  private readonly inner = spawnCommandRunner();
  run(binary: string, args: readonly string[], options?: { input?: string }) {
    this.calls.push({ binary, args: [...args], input: options?.input });
    return this.inner.run(binary, args, options);
  }
  lines(): string[] {
    return this.calls.map((c) => [c.binary, ...c.args].join(' '));
  }
}

export class RecordingTc implements TcRunner {
  readonly calls: string[][] = [];
  private readonly inner = spawnTcRunner();
  run(binary: string, args: readonly string[]) {
    this.calls.push([...args]);
    return this.inner.run(binary, args);
  }
  lines(): string[] {
    return this.calls.map((a) => a.join(' '));
  }
}

export interface Fixture {
  ns: TestNetns;
  dir: string;
  configDir: string;
  runDir: string;
  runner: RecordingRunner;
  tc: RecordingTc;
  warnings: string[];
  netlink: RtNetlink;
  /** A fresh state on the fixture's directories (a "restarted daemon"), not shared. */
  newState(extra?: Partial<NetworkDriverStateOptions>): Promise<NetworkDriverState>;
  cleanup(): void;
}

export async function setUp(name: string): Promise<Fixture> {
  const ns = enterTestNetns(`${TAG}-${name}`);
  const dir = mkdtempSync(join(tmpdir(), `tsvirt-${TAG}-${process.pid}-`));
  // dnsmasq reads its hosts files after dropping to an unprivileged user: the directories on
  // the way must be searchable by others (as /run is).
  chmodSync(dir, 0o711);
  const runner = new RecordingRunner();
  const tc = new RecordingTc();
  const warnings: string[] = [];
  const netlink = new RtNetlink();
  const states: NetworkDriverState[] = [];
  const fx: Fixture = {
    ns,
    dir,
    configDir: join(dir, 'etc'),
    runDir: join(dir, 'run'),
    runner,
    tc,
    warnings,
    netlink,
    async newState(extra = {}) {
      const warn = (m: string) => warnings.push(m);
      const state = new NetworkDriverState({
        configDir: join(dir, 'etc'),
        runDir: join(dir, 'run'),
        privileged: true,
        netlink,
        runner,
        bandwidth: new NetDevBandwidth({ tc: new Tc({ runner: tc, warn }), privileged: extra.privileged ?? true }),
        warn,
        ...extra,
      });
      await state.initialize();
      states.push(state);
      return state;
    },
    cleanup() {
      // Kill any dnsmasq of this fixture still running (a failed test), then drop the namespace.
      try {
        const out = execFileSync('ps', ['-eo', 'pid,args']).toString();
        for (const line of out.split('\n')) {
          if (line.includes('dnsmasq') && line.includes(dir)) {
            const pid = Number(line.trim().split(/\s+/)[0]);
            if (pid) process.kill(pid, 'SIGKILL');
          }
        }
      } catch {
        // nothing to kill
      }
      netlink.close();
      ns.leave();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fx;
}

/** `ip -j` output of the test namespace. */
export function ipJson(...args: string[]): unknown {
  return JSON.parse(execFileSync('ip', ['-j', ...args]).toString() || '[]');
}

export function linkNames(): string[] {
  return (ipJson('link', 'show') as { ifname: string }[]).map((l) => l.ifname);
}

export function addresses(dev: string): string[] {
  const links = ipJson('addr', 'show', 'dev', dev) as { addr_info: { local: string; prefixlen: number }[] }[];
  return (links[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

export function nftTables(): string[] {
  const out = execFileSync('nft', ['list', 'tables']).toString();
  return out.split('\n').filter((l) => l.startsWith('table ')).map((l) => l.trim());
}

export function nftTable(name: string): string {
  return execFileSync('nft', ['list', 'table', 'inet', name]).toString();
}

/** A sysctl of the test namespace (read on the main thread). */
export function sysctl(key: string): string {
  return readFileSync(`/proc/sys/${key}`, 'utf8').trim();
}

export function tcShow(dev: string, what: 'qdisc' | 'class' | 'filter'): string {
  return execFileSync('tc', [what, 'show', 'dev', dev]).toString();
}

export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

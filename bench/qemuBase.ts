// Figures for the QEMU building blocks: capabilities probe and cache, QMP, process start and
// kill, exit detection of a QEMU that is not our child, and the test guest's boot.
// Run: npx tsc -p . && node dist/bench/qemuBase.js [runs]
// libvirt's figures for the same steps on this kind of machine are in
// /work/shared/spec/libvirt-baseline.md and printed alongside.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuCapsCache, probeQemu } from '../src/drivers/qemu/capabilities.js';
import { QemuProcess, readProcessIdentity } from '../src/drivers/qemu/qemuProcess.js';
import { QmpClient } from '../src/drivers/qemu/qmp.js';
import { guestKernel, startRawGuest } from '../test/helpers/guest.js';

const runs = Number(process.argv[2] ?? 5);
const binary = '/usr/bin/qemu-system-x86_64';
const dir = mkdtempSync(join(tmpdir(), `tsvirt-bench-qemu-base-${process.pid}-`));

interface Row {
  what: string;
  values: number[];
  unit: string;
  libvirt?: string;
}
const rows: Row[] = [];

function stats(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

function record(what: string, values: number[], unit = 'ms', libvirt?: string): void {
  rows.push({ what, values, unit, libvirt });
  const { median, min, max } = stats(values);
  const f = (n: number): string => (n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1));
  console.log(
    `${what.padEnd(58)} ${f(median).padStart(8)} ${unit}  (min ${f(min)}, max ${f(max)}, N=${values.length})${libvirt ? `   libvirt: ${libvirt}` : ''}`,
  );
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function bareArgs(sock: string): string[] {
  return ['-machine', 'none', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-qmp', `unix:${sock},server=on,wait=off`];
}

async function main(): Promise<void> {
  // Capabilities.
  const probes: number[] = [];
  for (let i = 0; i < runs; i++) probes.push(await time(() => probeQemu(binary, { workDir: dir })));
  record('capabilities probe, uncached (KVM + TCG probes at once)', probes);
  const cacheDir = join(dir, 'caps');
  await new QemuCapsCache(cacheDir, { workDir: dir }).get(binary);
  const diskHits: number[] = [];
  for (let i = 0; i < runs * 4; i++) diskHits.push(await time(() => new QemuCapsCache(cacheDir).get(binary)));
  record('capabilities, cache file hit (fresh cache object)', diskHits);
  const warm = new QemuCapsCache(cacheDir);
  await warm.get(binary);
  const memHits: number[] = [];
  for (let i = 0; i < runs * 20; i++) memHits.push(await time(() => warm.get(binary)));
  record('capabilities, in-memory hit (stat revalidation)', memHits);

  // Spawn → QMP ready, round trips, kill.
  const ready: number[] = [];
  const rtt: number[] = [];
  const kills: number[] = [];
  for (let i = 0; i < runs; i++) {
    const sock = join(dir, `b${i}.qmp`);
    const t0 = performance.now();
    const proc = await QemuProcess.spawn({ binary, args: bareArgs(sock), logFile: join(dir, `b${i}.log`) });
    const qmp = await QmpClient.connect(sock);
    ready.push(performance.now() - t0);
    for (let j = 0; j < 200; j++) rtt.push(await time(() => qmp.execute('query-status')));
    qmp.close();
    kills.push(await time(() => proc.kill()));
  }
  record('spawn QEMU -machine none → QMP negotiated', ready);
  record('QMP round trip (query-status)', rtt, 'ms', '0.45 ms (python, baseline surprise 1)');
  record('kill(): SIGTERM → exit event of our child', kills, 'ms', 'destroy 229 ms (prompt reaper) / 1435 ms (as found)');

  // A QEMU that is not our child: its monitor hangs up, the pidfd confirms the exit.
  const foreign: number[] = [];
  for (let i = 0; i < runs; i++) {
    const sock = join(dir, `f${i}.qmp`);
    const sh = spawn('sh', ['-c', `${binary} ${bareArgs(sock).join(' ')} >/dev/null 2>&1 </dev/null & echo $!`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    sh.stdout.on('data', (d) => (out += d));
    await new Promise((r) => sh.on('close', r));
    const pid = Number(out.trim());
    const qmp = await QmpClient.connect(sock);
    const proc = (await QemuProcess.attach(readProcessIdentity(pid)!))!;
    qmp.on('close', () => proc.noticeHangup());
    const t0 = performance.now();
    process.kill(pid, 'SIGTERM');
    await proc.exited;
    foreign.push(performance.now() - t0);
  }
  record('not our child: SIGTERM → monitor EOF → pidfd → exit', foreign, 'ms', "kill(0) polling every 200 ms, reaped by pid 1 after 1-2 s");

  // The test guest.
  if (existsSync(guestKernel)) {
    const boots: number[] = [];
    for (let i = 0; i < Math.min(runs, 3); i++) {
      const t0 = performance.now();
      const g = await startRawGuest({ dir, name: `g${i}`, nics: [{ mac: `52:54:00:be:00:0${i}`, netdev: 'user' }] });
      await g.guest.waitReady(120_000);
      boots.push(performance.now() - t0);
      await g.stop();
    }
    record('test guest: spawn → TSVIRT-GUEST-READY (TCG)', boots);
  }
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

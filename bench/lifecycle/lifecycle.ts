// Lifecycle figures for one domain XML, side by side: tsvirt (qemu:///embed, in-process),
// raw QEMU with the same argv (the floor: spawn, QMP, cont, query-status), and libvirtd's
// qemu:///system when installed (python3-libvirt; serialised on /tmp/tsvirt-libvirtd.lock, a
// libvirtd started here if none runs and stopped after).
//
//   npx tsc -p . && node dist/bench/lifecycle/lifecycle.js [runs] [--no-libvirt] [--concurrent N]
//
// The domain is the one of /work/shared/spec/libvirt-baseline.md: type='kvm' (TCG when there
// is no usable KVM), 128 MiB, 1 vCPU, no disk, an ethernet virtio NIC (a tap) and a pty serial.
// Everything runs in a private network namespace (the taps go there), except libvirtd, which
// makes its taps in the host's.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type Connection, type Domain } from '../../src/api/index.js';
import { kvmUsable, QemuCapsCache } from '../../src/drivers/qemu/capabilities.js';
import { buildQemuCommandLine } from '../../src/drivers/qemu/commandLine.js';
import { qemuCapsSource, qemuDomainDefaults } from '../../src/drivers/qemu/domainDefaults.js';
import { QemuProcess } from '../../src/drivers/qemu/qemuProcess.js';
import { QmpClient } from '../../src/drivers/qemu/qmp.js';
import { parseDomainXML } from '../../src/conf/domain/index.js';
import { netHost } from '../../src/host/netHost.js';
import { closeTapFds, createTap } from '../../src/host/tap.js';
import { CLONE_NEWNET, setns } from '../../src/host/syscalls.js';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 10);
const withLibvirt = !args.includes('--no-libvirt');
const concurrentIdx = args.indexOf('--concurrent');
const concurrent = concurrentIdx >= 0 ? Number(args[concurrentIdx + 1]) : 20;
const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, '../../../bench/lifecycle');

const dir = mkdtempSync(join(tmpdir(), `tsvirt-bench-lifecycle-${process.pid}-`));

function domainXML(name: string, virtType: string): string {
  return `<domain type='${virtType}'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='ethernet'><model type='virtio'/></interface>
    <serial type='pty'/>
  </devices>
</domain>`;
}

interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

const fmt = (n: number | undefined): string => (n === undefined ? '–' : n < 10 ? n.toFixed(1) : Math.round(n).toString());

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

// ---- raw QEMU with the argv tsvirt builds ----

async function rawArgv(virtType: string, sock: string, tapFd: number): Promise<{ binary: string; args: string[] }> {
  const caps = await new QemuCapsCache(join(dir, 'tsvirt', 'cache', 'qemu', 'capabilities')).getAll();
  const source = qemuCapsSource(caps);
  const def = parseDomainXML(domainXML('raw', virtType), { driver: qemuDomainDefaults(source) });
  return buildQemuCommandLine(def, {
    caps: source.forArch('x86_64')!,
    vmName: 'raw',
    qmpSocket: sock,
    chardevSocketDir: dirname(sock),
    libDir: dir,
    logDir: dir,
    netFds: new Map([['net0', [3]]]),
    ptyAsSocket: true,
  });
}

interface RawPrepared {
  cmd: { binary: string; args: string[] };
  sock: string;
  tapFd: number;
  logFile: string;
}

/** What a raw start needs ready before the clock starts: a tap (as tsvirt makes it) and the argv. */
async function rawPrepare(virtType: string, i: number): Promise<RawPrepared> {
  const rdir = mkdtempSync(join(dir, 'raw-'));
  const sock = join(rdir, 'monitor.sock');
  const host = netHost();
  const tap = await createTap(host, { name: `rawtap${i}`, vnetHdr: true, guestMac: '52:54:00:00:00:01' });
  host.netlink.close();
  return { cmd: await rawArgv(virtType, sock, tap.fds[0]!), sock, tapFd: tap.fds[0]!, logFile: join(rdir, 'log') };
}

/** One raw start: spawn, QMP negotiated, cont, query-status running. */
async function rawStart(p: RawPrepared): Promise<{ ms: number; proc: QemuProcess; qmp: QmpClient }> {
  const t0 = performance.now();
  const proc = await QemuProcess.spawn({ binary: p.cmd.binary, args: p.cmd.args, logFile: p.logFile, fds: new Map([[3, p.tapFd]]) });
  closeTapFds({ fds: [p.tapFd] });
  const qmp = await QmpClient.connect(p.sock);
  await qmp.execute('cont');
  const st = await qmp.execute<{ status: string }>('query-status');
  if (st.status !== 'running') throw new Error(`raw QEMU is ${st.status}`);
  return { ms: performance.now() - t0, proc, qmp };
}

/**
 * tsvirt and raw QEMU, one run of each in turn, so both see the same load on a shared machine
 * (the concurrent starts likewise alternate).
 */
async function benchTsvirtAndRaw(virtType: string): Promise<{ tsvirt: Record<string, Stats>; raw: Record<string, Stats> }> {
  const conn: Connection = await open(`qemu:///embed?root=${join(dir, 'tsvirt')}`);
  const t = { start: [] as number[], create: [] as number[], destroy: [] as number[], concurrent: [] as number[] };
  const r = { start: [] as number[], destroy: [] as number[], concurrent: [] as number[] };
  try {
    for (let i = 0; i < runs + 1; i++) {
      const warm = i === 0; // first-use costs (netlink socket, caches) are not counted
      const raw = await rawStart(await rawPrepare(virtType, i));
      raw.qmp.close();
      const rd = await timeIt(() => raw.proc.kill());
      if (!warm) {
        r.start.push(raw.ms);
        r.destroy.push(rd);
      }
      const name = `bench${i}`;
      const t0 = performance.now();
      const dom = await conn.domainDefineXML(domainXML(name, virtType));
      const t1 = performance.now();
      await dom.create();
      const t2 = performance.now();
      const d = await timeIt(() => dom.destroy());
      await dom.undefine();
      if (!warm) {
        t.start.push(t2 - t0);
        t.create.push(t2 - t1);
        t.destroy.push(d);
      }
    }
    const doms: Domain[] = [];
    for (let i = 0; i < concurrent; i++) doms.push(await conn.domainDefineXML(domainXML(`conc${i}`, virtType)));
    for (let rep = 0; rep < Math.max(1, Math.min(3, runs)); rep++) {
      const prepared = await Promise.all(Array.from({ length: concurrent }, (_x, i) => rawPrepare(virtType, 100 + i)));
      const t0 = performance.now();
      const all = await Promise.all(prepared.map((p) => rawStart(p)));
      r.concurrent.push(performance.now() - t0);
      await Promise.all(all.map((x) => (x.qmp.close(), x.proc.kill())));
      t.concurrent.push(await timeIt(() => Promise.all(doms.map((d) => d.create()))));
      await Promise.all(doms.map((d) => d.destroy()));
    }
    for (const d of doms) await d.undefine();
  } finally {
    await conn.close();
  }
  return {
    tsvirt: { start: stats(t.start), create: stats(t.create), destroy: stats(t.destroy), concurrent: stats(t.concurrent) },
    raw: { start: stats(r.start), destroy: stats(r.destroy), concurrent: stats(r.concurrent) },
  };
}

// ---- libvirtd (qemu:///system) ----

/** Whether a system libvirtd answers on qemu:///system. */
function libvirtdRunning(): boolean {
  return spawnSync('virsh', ['-c', 'qemu:///system', 'uri'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

async function benchLibvirt(virtType: string): Promise<Record<string, Stats> | string> {
  if (spawnSync('sh', ['-c', 'command -v libvirtd'], { stdio: 'ignore' }).status !== 0) return 'libvirtd not installed';
  if (!existsSync('/usr/bin/python3')) return 'no /usr/bin/python3';
  const lockFd = openSync('/tmp/tsvirt-libvirtd.lock', 'a');
  // flock(1) holds the lock for as long as the python child runs.
  if (!libvirtdRunning()) process.stderr.write('bench/lifecycle: no system libvirtd answers; starting one for the run\n');
  try {
    const script = join(srcDir, 'libvirtBench.py');
    const xmlFile = join(dir, 'libvirt-domain.xml');
    writeFileSync(xmlFile, domainXML('tsvirt-bench-lv', virtType));
    const out = await new Promise<string>((resolve, reject) => {
      // A libvirtd started here is stopped by its own pid file, never by name (other users'
      // daemons may run). Checked again under the lock: another bench may have started one.
      const py = `/usr/bin/python3 ${script} ${xmlFile} ${runs} ${concurrent}`;
      const cmd =
        `if virsh -c qemu:///system uri >/dev/null 2>&1; then ${py}; else ` +
        `virtlogd -d -p /run/tsvirt-bench-virtlogd.pid; libvirtd -d -p /run/tsvirt-bench-libvirtd.pid && ` +
        `for i in $(seq 50); do virsh -c qemu:///system uri >/dev/null 2>&1 && break; sleep 0.1; done; ` +
        `${py}; rc=$?; kill $(cat /run/tsvirt-bench-libvirtd.pid) $(cat /run/tsvirt-bench-virtlogd.pid); exit $rc; fi`;
      const p = spawn('flock', ['/tmp/tsvirt-libvirtd.lock', 'sh', '-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`libvirt bench exited ${code}`))));
    });
    const raw = JSON.parse(out) as Record<string, number[]>;
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, stats(v.map((x) => x * 1000))]));
  } catch (err) {
    return String(err);
  } finally {
    closeSync(lockFd);
  }
}

function enterNetns(): () => void {
  const name = `tsv-benchlife-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  const orig = openSync('/proc/self/ns/net', 'r');
  const target = openSync(`/run/netns/${name}`, 'r');
  setns(target, CLONE_NEWNET);
  closeSync(target);
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  return () => {
    setns(orig, CLONE_NEWNET);
    closeSync(orig);
    execFileSync('ip', ['netns', 'del', name]);
  };
}

async function main(): Promise<void> {
  const virtType = (await kvmUsable()) ? 'kvm' : 'qemu';
  console.log(`bench/lifecycle: ${runs} runs, ${concurrent} concurrent starts, <domain type='${virtType}'>, 128 MiB, ethernet virtio NIC, pty serial`);
  let libvirt: Record<string, Stats> | string = 'skipped (--no-libvirt)';
  if (withLibvirt) libvirt = await benchLibvirt(virtType);
  const leave = enterNetns();
  let tsvirt: Record<string, Stats>;
  let raw: Record<string, Stats>;
  try {
    ({ tsvirt, raw } = await benchTsvirtAndRaw(virtType));
  } finally {
    leave();
  }
  const lv = typeof libvirt === 'string' ? undefined : libvirt;
  const rows: [string, Stats | undefined, Stats | undefined, Stats | undefined, string][] = [
    ['start: define → running, ms', tsvirt.start, raw.start, lv?.start, '≤ 1.3×'],
    ['start: create() → running, ms', tsvirt.create, raw.start, lv?.create, '≤ 1.3×'],
    ['destroy, ms', tsvirt.destroy, raw.destroy, lv?.destroy, '≤ 2×'],
    [`${concurrent} concurrent starts → all running, ms`, tsvirt.concurrent, raw.concurrent, lv?.concurrent, '≤ 2×'],
  ];
  const ratio = (a: Stats | undefined, b: Stats | undefined): string => (a && b ? `${(a.median / b.median).toFixed(2)}×` : '–');
  console.log('');
  console.log(
    `${'measurement (median, min–max)'.padEnd(40)} ${'tsvirt'.padStart(18)} ${'raw QEMU'.padStart(18)} ${'libvirtd'.padStart(18)}   tsvirt/raw  libvirt/raw  goal`,
  );
  for (const [what, t, r, l, goal] of rows) {
    const cell = (s: Stats | undefined): string => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '–');
    console.log(
      `${what.padEnd(40)} ${cell(t).padStart(18)} ${cell(r).padStart(18)} ${cell(l).padStart(18)}   ${ratio(t, r).padStart(10)}  ${ratio(l, r).padStart(11)}  ${goal}`,
    );
  }
  if (typeof libvirt === 'string') console.log(`\nlibvirtd: ${libvirt}`);
  console.log('\nlibvirt 9.0 on this kind of machine (spec/libvirt-baseline.md): create 595 ms vs raw 80 ms (7.6×); destroy 1435 ms vs 36 ms; 20 concurrent 9.6 s vs 0.88 s.');
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// tsvirtd against libvirtd 9.0, side by side with the same clients (python-libvirt 9.0 and
// tsvirt's own library): calls/s and latency of getVersion, lookupByName, getXMLDesc and
// listAllDomains with 1, 100 and 1000 defined domains, from 1 and from 8 concurrent clients;
// daemon RSS idle and with 1000 defined; cold start to the first answer with 1000 defined.
//
// Both daemons run the QEMU driver the same way: as the unprivileged test user, session
// instances in temp directories of their own (qemu:///session), so nothing of the machine's
// system instance is touched and runs of other helpers cannot interfere. `--system` compares
// root's instances instead: tsvirtd --root on qemu:///system against the machine's libvirtd
// (serialised on /tmp/tsvirt-libvirtd.lock) — the setup of shared/spec/libvirt-baseline.md.
//
// Run (root): make build && node dist/bench/rpc/rpcBench.js [--runs N] [--seconds S] [--system]
//             [--quick]  (quick: 1 and 1000 domains, 3 runs of 0.3 s)
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { startLibvirtd, type PrivateLibvirtd } from '../../test/helpers/libvirtd.js';
import { projectRoot, testUser } from '../../test/helpers/system.js';
import { run } from '../../test/helpers/command.js';
import { sessionEnv, startTsvirtd, TSVIRTD, type RunningTsvirtd } from '../../test/daemon/tsvirtd.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const opt = (name: string, def: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const quick = flag('--quick');
const RUNS = opt('--runs', quick ? 3 : 5);
const SECONDS = opt('--seconds', quick ? 0.3 : 0.5);
const SYSTEM = flag('--system');
const COUNTS = quick ? [1, 1000] : [1, 100, 1000];
const OPS = ['getVersion', 'lookupByName', 'getXMLDesc', 'listAllDomains'] as const;
const CONCURRENCY = [1, 8];
const PYTHON = '/usr/bin/python3';
const PY_CLIENT = join(projectRoot, 'bench/rpc/pyClient.py');
const TS_CLIENT = join(projectRoot, 'dist/bench/rpc/tsClient.js');

interface Daemon {
  name: 'libvirtd' | 'tsvirtd';
  uri: string;
  pid(): number;
  /** Stops the daemon, keeping its state. */
  kill(): Promise<void>;
  /** argv, env and ids that start it again on the same state. */
  launch: { cmd: string; args: string[]; env: NodeJS.ProcessEnv; uid?: number; gid?: number };
  stop(): Promise<void>;
}

interface Sample {
  calls: number;
  seconds: number;
  lat_us: [number, number];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function domainXml(i: number): string {
  const name = `bench${String(i).padStart(4, '0')}`;
  return `<domain type='qemu'><name>${name}</name><memory unit='KiB'>131072</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`;
}

async function defineUpTo(d: Daemon, from: number, to: number): Promise<void> {
  const c = await RemoteDriver.open(d.uri);
  for (let i = from; i < to; i++) await c.domainDefineXML(domainXml(i), 0);
  await c.close();
}

async function measure(d: Daemon, client: 'python' | 'tsvirt', op: string, conc: number): Promise<Sample> {
  const args = [d.uri, op, String(SECONDS), String(conc), 'bench0000'];
  const r = client === 'python' ? await run(PYTHON, [PY_CLIENT, ...args]) : await run(process.execPath, [TS_CLIENT, ...args]);
  if (r.status !== 0) throw new Error(`${client} ${op} against ${d.name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Sample;
}

/** Spawn → the first getVersion answered on the daemon's QEMU URI, in ms. */
async function coldStart(d: Daemon): Promise<{ ms: number; rss: number }> {
  await d.kill();
  const l = d.launch;
  const t0 = performance.now();
  const child: ChildProcess = spawn(l.cmd, l.args, { env: l.env, uid: l.uid, gid: l.gid, stdio: 'ignore' });
  let ms = -1;
  for (let i = 0; i < 10000; i++) {
    try {
      const c = await RemoteDriver.open(d.uri, { keepaliveInterval: 0 });
      await c.getVersion();
      ms = performance.now() - t0;
      await c.close();
      break;
    } catch {
      await sleep(2);
    }
  }
  await sleep(2000);
  const rss = rssMiB(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { ms, rss };
}

async function startDaemons(): Promise<{ lv: Daemon; ts: Daemon; setup: string }> {
  if (SYSTEM) {
    const lvd = await startLibvirtd({ mode: 'system', tag: 'bench' });
    const tsd = await startTsvirtd({ tag: 'bench' });
    return {
      setup: 'root: the machine\'s libvirtd (qemu:///system) and tsvirtd --root (qemu:///system)',
      lv: wrapLibvirtd(lvd, 'qemu', '/system'),
      ts: wrapTsvirtd(tsd, '/system'),
    };
  }
  const [lvd, tsd] = await Promise.all([startLibvirtd({ tag: 'bench' }), startTsvirtd({ tag: 'bench', mode: 'session' })]);
  return {
    setup: 'both as the unprivileged test user, session instances in temp dirs (qemu:///session)',
    lv: wrapLibvirtd(lvd, 'qemu', '/session'),
    ts: wrapTsvirtd(tsd, '/session'),
  };
}

function wrapLibvirtd(l: PrivateLibvirtd, driver: string, path: string): Daemon {
  const user = testUser();
  const launch =
    l.mode === 'session'
      ? {
          cmd: 'libvirtd',
          args: [],
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', XDG_RUNTIME_DIR: join(l.dir, 'run'), XDG_CONFIG_HOME: join(l.dir, 'config'), XDG_CACHE_HOME: join(l.dir, 'cache'), HOME: join(l.dir, 'home'), LANG: 'C' },
          uid: user.uid,
          gid: user.gid,
        }
      : { cmd: 'flock', args: ['-F', '/tmp/tsvirt-libvirtd.lock', 'libvirtd', '--config', join(l.dir, 'libvirtd.conf')], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } };
  return { name: 'libvirtd', uri: l.uri(driver, path), pid: () => l.pid, kill: () => l.kill(), launch, stop: () => l.stop() };
}

function wrapTsvirtd(t: RunningTsvirtd, path: string): Daemon {
  const user = testUser();
  const launch =
    t.mode === 'session'
      ? { cmd: TSVIRTD, args: [], env: sessionEnv(t.dir), uid: user.uid, gid: user.gid }
      : { cmd: TSVIRTD, args: ['--root', join(t.dir, 'root')], env: { PATH: process.env.PATH, LANG: 'C' } };
  return {
    name: 'tsvirtd',
    uri: t.uri('qemu', path),
    pid: () => t.pid,
    kill: async () => {
      await t.kill();
    },
    launch,
    stop: () => t.stop(),
  };
}

function bareNodeRss(): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 3000)'], { stdio: 'ignore' });
    setTimeout(() => {
      const v = rssMiB(c.pid!);
      c.kill();
      resolve(v);
    }, 1500);
  });
}

const fmtRate = (s: number) => (s >= 10000 ? `${(s / 1000).toFixed(1)}k` : s.toFixed(0));
const fmtLat = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`);

async function main(): Promise<void> {
  const { lv, ts, setup } = await startDaemons();
  const lines: string[] = [];
  const out = (s: string) => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  try {
    out(`# bench/rpc: tsvirtd vs libvirtd 9.0 — ${setup}`);
    out(`# ${RUNS} runs of ${SECONDS} s each, median; latency = median per call of the median run; 8 clients: python 8 threads with a connection each, tsvirt 8 connections in one process`);
    const idle = { lv: rssMiB(lv.pid()), ts: rssMiB(ts.pid()) };
    out('');
    out('| op | domains | clients | client | libvirtd calls/s | libvirtd latency | tsvirtd calls/s | tsvirtd latency | ratio |');
    out('|---|---|---|---|---|---|---|---|---|');
    let defined = 0;
    const rssAfterFirst = { lv: 0, ts: 0 };
    for (const count of COUNTS) {
      await Promise.all([defineUpTo(lv, defined, count), defineUpTo(ts, defined, count)]);
      defined = count;
      if (rssAfterFirst.ts === 0) rssAfterFirst.ts = rssMiB(ts.pid());
      if (rssAfterFirst.lv === 0) rssAfterFirst.lv = rssMiB(lv.pid());
      for (const op of OPS) {
        for (const conc of CONCURRENCY) {
          for (const client of ['python', 'tsvirt'] as const) {
            const samples: Record<string, Sample[]> = { libvirtd: [], tsvirtd: [] };
            for (let r = 0; r < RUNS; r++) {
              for (const d of r % 2 ? [lv, ts] : [ts, lv]) samples[d.name]!.push(await measure(d, client, op, conc));
            }
            const rate = (xs: Sample[]) => median(xs.map((x) => x.calls / x.seconds));
            const lat = (xs: Sample[]) => median(xs.map((x) => x.lat_us[0]));
            const [lr, tr] = [rate(samples.libvirtd!), rate(samples.tsvirtd!)];
            out(`| ${op} | ${count} | ${conc} | ${client} | ${fmtRate(lr)} | ${fmtLat(lat(samples.libvirtd!))} | ${fmtRate(tr)} | ${fmtLat(lat(samples.tsvirtd!))} | ${(tr / lr).toFixed(2)}× |`);
          }
        }
      }
    }
    await sleep(5000);
    const with1000 = { lv: rssMiB(lv.pid()), ts: rssMiB(ts.pid()) };
    const cold = { lv: [] as number[], ts: [] as number[], lvRss: [] as number[], tsRss: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      const a = await coldStart(ts);
      const b = await coldStart(lv);
      cold.ts.push(a.ms);
      cold.tsRss.push(a.rss);
      cold.lv.push(b.ms);
      cold.lvRss.push(b.rss);
    }
    const bare = await bareNodeRss();
    out('');
    out('| measurement | libvirtd | tsvirtd |');
    out('|---|---|---|');
    out(`| RSS idle, fresh start (MiB) | ${idle.lv.toFixed(1)} | ${idle.ts.toFixed(1)} (QEMU driver not loaded yet) |`);
    out(`| RSS after the first client (MiB) | ${rssAfterFirst.lv.toFixed(1)} | ${rssAfterFirst.ts.toFixed(1)} |`);
    out(`| RSS with 1000 defined over RPC, after the runs (MiB) | ${with1000.lv.toFixed(1)} | ${with1000.ts.toFixed(1)} |`);
    out(`| RSS after a cold start with 1000 defined on disk (MiB) | ${median(cold.lvRss).toFixed(1)} | ${median(cold.tsRss).toFixed(1)} |`);
    out(`| cold start → first getVersion answered, 1000 defined (ms, median of ${RUNS}) | ${median(cold.lv).toFixed(0)} (${Math.min(...cold.lv).toFixed(0)}–${Math.max(...cold.lv).toFixed(0)}) | ${median(cold.ts).toFixed(0)} (${Math.min(...cold.ts).toFixed(0)}–${Math.max(...cold.ts).toFixed(0)}) |`);
    out(`| a bare \`node\` process (MiB, for scale) | | ${bare.toFixed(1)} |`);
  } finally {
    await Promise.all([lv.stop(), ts.stop()]);
  }
}

await main();

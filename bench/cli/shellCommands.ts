// Wall time of one shell invocation (start-up, connect to test:///default, run, exit) for a few
// commands, tsvirt next to virsh when installed, and the API's in-process lifecycle rate next to
// python-libvirt's on libvirt's own test driver.
// Run: node dist/bench/cli/shellCommands.js [runs]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/api/index.js';

const runs = Number(process.argv[2] ?? 15);
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const tsvirt = [process.execPath, join(root, 'bin/tsvirt')];
const haveVirsh = spawnSync('sh', ['-c', 'command -v virsh'], { stdio: 'ignore' }).status === 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(cmd: string[], args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), ...args], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} ${args.join(' ')} failed`);
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const commands = ['uri', 'list --all', 'dominfo test', 'destroy test; start test; list --all; net-list --all'];
console.log(`shell invocation, median of ${runs} runs (ms)`);
console.log(`${'command'.padEnd(56)} ${'tsvirt'.padStart(8)} ${'virsh'.padStart(8)}`);
for (const c of commands) {
  const a = time(tsvirt, ['-c', 'test:///default', c]);
  const b = haveVirsh ? time(['virsh'], ['-c', 'test:///default', c]).toFixed(1) : 'n/a';
  console.log(`${c.padEnd(56)} ${a.toFixed(1).padStart(8)} ${b.padStart(8)}`);
}

// In-process API: define + start + destroy + undefine cycles per second.
const N = 2000;
const xml = (i: number): string =>
  `<domain type='test'><name>b${i}</name><memory>65536</memory><os><type>hvm</type></os></domain>`;
const conn = await open('test:///default');
let t0 = performance.now();
for (let i = 0; i < N; i++) {
  const d = await conn.domainDefineXML(xml(i));
  await d.create();
  await d.destroy();
  await d.undefine();
}
const ours = (N / (performance.now() - t0)) * 1000;
await conn.close();
let theirs = 'n/a';
const py = spawnSync(
  '/usr/bin/python3',
  [
    '-c',
    `import libvirt, time
c = libvirt.open('test:///default')
t = time.perf_counter()
for i in range(${N}):
    d = c.defineXML("<domain type='test'><name>b%d</name><memory>65536</memory><os><type>hvm</type></os></domain>" % i)
    d.create(); d.destroy(); d.undefine()
print(${N} / (time.perf_counter() - t))`,
  ],
  { encoding: 'utf8' },
);
if (py.status === 0) theirs = Number(py.stdout.trim()).toFixed(0);
t0 = 0;
console.log(`\ndefine+start+destroy+undefine cycles/s (in process, ${N} cycles): tsvirt ${ours.toFixed(0)}, python-libvirt ${theirs}`);

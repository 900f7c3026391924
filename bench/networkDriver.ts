// Figures for the network driver: starting and stopping networks (bridge only; NAT with
// firewall, forwarding and dnsmasq) and allocating/releasing ports with a floor on the bridge,
// each in a network namespace of its own. With a root libvirtd available (and the shared lock),
// libvirt 9.0 does the same network starts through python-libvirt, printed alongside.
// Run (root): npx tsc -p . && node dist/bench/networkDriver.js [runs]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkDriver } from '../src/drivers/network/networkDriver.js';
import { NetworkDriverState } from '../src/drivers/network/networkDriverState.js';
import { enterTestNetns } from '../test/helpers/netns.js';

const runs = Number(process.argv[2] ?? 10);

const BRIDGE_ONLY = `<network><name>benchiso</name><bridge name='benchbr0'/></network>`;
const NAT = `<network><name>benchnat</name><forward mode='nat'/><bridge name='benchbr1'/>
  <ip address='192.168.99.1' prefix='24'><dhcp><range start='192.168.99.10' end='192.168.99.99'/></dhcp></ip></network>`;
const QOS = `<network><name>benchqos</name><forward mode='nat'/><bridge name='benchbr2'/>
  <bandwidth><inbound average='100000' peak='500000'/></bandwidth><ip address='192.168.98.1' prefix='24'/></network>`;

function stats(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

function record(what: string, values: number[], libvirt?: number[]): void {
  const f = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1));
  const { median, min, max } = stats(values);
  let line = `${what.padEnd(52)} ${f(median).padStart(8)} ms  (min ${f(min)}, max ${f(max)}, N=${values.length})`;
  if (libvirt?.length) {
    const l = stats(libvirt);
    line += `   libvirt 9.0: ${f(l.median)} ms (min ${f(l.min)}, max ${f(l.max)})`;
  }
  console.log(line);
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** libvirt's create+destroy of the same XML, timed inside python-libvirt (ms per run). */
async function libvirtFigures(): Promise<Map<string, number[]> | undefined> {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/python3') || spawnSync('sh', ['-c', 'command -v libvirtd flock']).status !== 0) return undefined;
  const ns = `tsv-bench-net-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `tsvirt-bench-net-${process.pid}-`));
  writeFileSync(join(dir, 'libvirtd.conf'), '');
  execFileSync('ip', ['netns', 'add', ns]);
  const d = spawn('flock', ['-F', '-w', '60', '/tmp/tsvirt-libvirtd.lock', 'ip', 'netns', 'exec', ns, 'libvirtd', '--config', join(dir, 'libvirtd.conf')], {
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 300; i++) {
      const pids = spawnSync('ip', ['netns', 'pids', ns]).stdout.toString().trim();
      if (pids && spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { timeout: 5000 }).status === 0) break;
      if (d.exitCode !== null) return undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
    const script = `
import libvirt, sys, time, json
c = libvirt.open('qemu:///system')
out = {}
for name, xml in json.loads(sys.argv[2]).items():
    t = []
    for i in range(int(sys.argv[1])):
        t0 = time.perf_counter()
        n = c.networkCreateXML(xml)
        t1 = time.perf_counter()
        n.destroy()
        t2 = time.perf_counter()
        t.append([(t1 - t0) * 1000, (t2 - t1) * 1000])
    out[name] = t
print(json.dumps(out))
`;
    // Without <bandwidth>: libvirt cannot shape on this kernel (no sch_sfq), tsvirt can.
    const r = spawnSync('/usr/bin/python3', ['-c', script, String(runs), JSON.stringify({ iso: BRIDGE_ONLY, nat: NAT })], { timeout: 600000 });
    if (r.status !== 0) return undefined;
    const data = JSON.parse(r.stdout.toString()) as Record<string, [number, number][]>;
    const m = new Map<string, number[]>();
    for (const [k, v] of Object.entries(data)) {
      m.set(`${k} start`, v.map((x) => x[0]));
      m.set(`${k} stop`, v.map((x) => x[1]));
    }
    return m;
  } finally {
    d.kill('SIGTERM');
    await new Promise((r) => (d.exitCode !== null ? r(undefined) : d.once('exit', r)));
    spawnSync('ip', ['netns', 'del', ns]);
    for (const n of ['benchiso', 'benchnat']) rmSync(`/run/libvirt/network/${n}.pid`, { force: true });
    for (const f of ['conf', 'hostsfile', 'addnhosts']) rmSync(`/var/lib/libvirt/dnsmasq/benchnat.${f}`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const lv = await libvirtFigures();
  const ns = enterTestNetns('bench-net');
  const dir = mkdtempSync(join(tmpdir(), `tsvirt-bench-net-${process.pid}-`));
  execFileSync('chmod', ['711', dir]);
  try {
    const state = new NetworkDriverState({ configDir: join(dir, 'etc'), runDir: join(dir, 'run'), privileged: true, warn: () => undefined });
    await state.initialize();
    const drv = new NetworkDriver(state);
    for (const [label, xml, key] of [
      ['isolated, bridge only', BRIDGE_ONLY, 'iso'],
      ['nat + firewall + forwarding + dnsmasq', NAT, 'nat'],
    ] as const) {
      const starts: number[] = [];
      const stops: number[] = [];
      for (let i = 0; i < runs; i++) {
        let ref = { name: '', uuid: '' };
        starts.push(await time(async () => (ref = await drv.networkCreateXML(xml, 0))));
        stops.push(await time(() => drv.networkDestroy(ref)));
      }
      record(`network start: ${label}`, starts, lv?.get(`${key} start`));
      record(`network stop: ${label}`, stops, lv?.get(`${key} stop`));
    }
    const qos = await drv.networkCreateXML(QOS, 0);
    const allocs: number[] = [];
    const releases: number[] = [];
    for (let i = 0; i < runs * 2; i++) {
      const mac = `52:54:00:00:9${(i >> 8) & 0xf}:${(i & 0xff).toString(16).padStart(2, '0')}`;
      let uuid = '';
      allocs.push(
        await time(async () => {
          uuid = (await state.allocatePort('benchqos', { domainName: 'b', domainUUID: '0f0e0d0c-0b0a-4908-8706-050403020100', mac, bandwidth: { inbound: { floor: 10n } } })).uuid;
        }),
      );
      releases.push(await time(() => state.releasePort('benchqos', uuid)));
    }
    record('port allocate with floor (tc class, qdisc, filter)', allocs);
    record('port release with floor', releases);
    await drv.networkDestroy(qos);
    drv.close();
  } finally {
    ns.leave();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

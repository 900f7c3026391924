// Real virsh 9.0 against tsvirtd's server core prints what it prints against libvirtd: every
// command of spec §3.3 runs once straight to a private libvirtd and once through tsvirt (virsh →
// RemoteServer → RemoteDriver → a second, identical private libvirtd), and the outputs, error
// texts and exit codes must be the same.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasCommand } from '../helpers/system.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { testDomainXml, virsh, virshEvents, type VirshRun as Run } from '../helpers/virsh.js';
import { startProxy, type Proxy } from './proxy.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';

const skip = libvirtdSkipReason() || (hasCommand('virsh') ? false : 'needs virsh');

/** virsh without -q, for the commands whose headers matter (list, net-list, domiflist). */
const virshFull = (uri: string, args: string[]): Promise<Run> => virsh(uri, args, false);

const qemuDomainXml = (name: string, uuid: string) => `<domain type='qemu'>
  <name>${name}</name>
  <uuid>${uuid}</uuid>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='user'><mac address='52:54:00:ab:cd:ef'/><model type='e1000'/></interface>
  </devices>
</domain>
`;

/** The §3.3 command sequence; stateful, so it runs once per daemon from the same start. */
async function sequence(uri: string, xmlFile: string, name: string, opts: { start: boolean }): Promise<Run[]> {
  const runs: Run[] = [];
  runs.push(await virsh(uri, ['version']));
  runs.push(await virsh(uri, ['version', '--daemon']));
  runs.push(await virsh(uri, ['capabilities']));
  runs.push(await virshFull(uri, ['list', '--all']));
  runs.push(await virsh(uri, ['define', xmlFile]));
  runs.push(await virshFull(uri, ['list', '--all']));
  if (opts.start) runs.push(await virsh(uri, ['start', name]));
  runs.push(await virsh(uri, ['dominfo', name]));
  runs.push(await virsh(uri, ['domstate', name]));
  runs.push(await virsh(uri, ['domstate', '--reason', name]));
  runs.push(await virsh(uri, ['dumpxml', name]));
  runs.push(await virsh(uri, ['dumpxml', '--inactive', name]));
  runs.push(await virshFull(uri, ['domiflist', name]));
  runs.push(await virsh(uri, ['domid', name]));
  runs.push(await virsh(uri, ['domuuid', name]));
  if (opts.start) {
    runs.push(await virsh(uri, ['suspend', name]));
    runs.push(await virsh(uri, ['domstate', '--reason', name]));
    runs.push(await virsh(uri, ['resume', name]));
    runs.push(await virsh(uri, ['destroy', name]));
  }
  runs.push(await virsh(uri, ['destroy', name])); // not running: error
  runs.push(await virsh(uri, ['undefine', name]));
  runs.push(await virshFull(uri, ['list', '--all']));
  runs.push(await virshFull(uri, ['net-list', '--all']));
  runs.push(await virsh(uri, ['net-dumpxml', 'default']));
  runs.push(await virsh(uri, ['net-info', 'default']));
  runs.push(await virsh(uri, ['dominfo', 'nosuch']));
  runs.push(await virsh(uri, ['define', '/nonexistent.xml']));
  runs.push(await virsh(uri, ['nodeinfo']));
  runs.push(await virsh(uri, ['hostname']));
  runs.push(await virsh(uri, ['uri']));
  return runs;
}

// What the host changes between two reads: CPU time (test driver: the clock; QEMU: the guest)
// and the NUMA cells' free-page counts in the capabilities.
const normalize = (r: Run): Run => ({
  ...r,
  stdout: r.stdout
    .replace(/CPU time:\s+\S+/, 'CPU time: X')
    .replace(/(<cell id='\d+'>\s*<memory unit='KiB'>)\d+/g, '$1N')
    .replace(/(<pages unit='KiB' size='\d+'>)\d+/g, '$1N'),
});

function compare(direct: Run[], proxied: Run[]): void {
  assert.equal(proxied.length, direct.length);
  for (let i = 0; i < direct.length; i++) assert.deepEqual(normalize(proxied[i]!), normalize(direct[i]!), `virsh ${direct[i]!.cmd}`);
}

describe('real virsh through tsvirt prints what it prints against libvirtd', { skip }, () => {
  let direct: PrivateLibvirtd;
  let behind: PrivateLibvirtd;
  let px: Proxy;
  let tmp: string;
  const holders: RemoteDriver[] = [];
  before(async () => {
    // The same host UUID on both, as two runs on one machine would have.
    const config = 'host_uuid = "8f1a9c2e-5b7d-4e3f-9a1b-2c3d4e5f6a7b"\n';
    [direct, behind] = await Promise.all([startLibvirtd({ tag: 'rpc', config }), startLibvirtd({ tag: 'rpc', config })]);
    // libvirt's test:///default state lives while some connection holds it open: keep one
    // open on each daemon so the sequence's virsh invocations share it.
    for (const l of [direct, behind]) holders.push(await RemoteDriver.open(l.uri('test', '/default')));
    px = await startProxy(behind);
    tmp = mkdtempSync(`/tmp/tsvirt-rpc-${process.pid}-virsh-`);
  });
  after(async () => {
    for (const h of holders) await h.close();
    await px?.close();
    await Promise.all([direct?.stop(), behind?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  });

  test('test:///default: the §3.3 commands', async () => {
    const name = `rpc-virsh-${process.pid}`;
    const xml = join(tmp, 'test.xml');
    writeFileSync(xml, testDomainXml(name, '1b4e28ba-2fa1-11d2-883f-0016d3cca427'));
    const d = await sequence(direct.uri('test', '/default'), xml, name, { start: true });
    const p = await sequence(px.uri('test', '/default'), xml, name, { start: true });
    // The sequence did what it should against libvirtd (so equality means something).
    assert.match(d.find((r) => r.cmd === 'dominfo ' + name)!.stdout, /State:\s+running/);
    assert.match(d.find((r) => r.cmd === 'dominfo nosuch')!.stderr, /failed to get domain 'nosuch'/);
    assert.equal(d.find((r) => r.cmd === 'dominfo nosuch')!.status, 1);
    // The uri command reports the socket in the URI: the only expected difference.
    const uriIdx = d.findIndex((r) => r.cmd === 'uri');
    assert.equal(d[uriIdx]!.stdout.trim(), direct.uri('test', '/default'));
    assert.equal(p[uriIdx]!.stdout.trim(), px.uri('test', '/default'));
    compare(d.filter((_, i) => i !== uriIdx), p.filter((_, i) => i !== uriIdx));
  });

  test('qemu:///session: the §3.3 commands with a real QEMU guest', { skip: hasCommand('qemu-system-x86_64') ? false : 'needs qemu' }, async () => {
    const name = `rpc-qemu-${process.pid}`;
    const xml = join(tmp, 'qemu.xml');
    writeFileSync(xml, qemuDomainXml(name, '2c5f39cb-3fb2-11d2-883f-0016d3cca428'));
    const d = await sequence(direct.uri('qemu', '/session'), xml, name, { start: true });
    const p = await sequence(px.uri('qemu', '/session'), xml, name, { start: true });
    const startRun = d.find((r) => r.cmd === 'start ' + name)!;
    assert.equal(startRun.status, 0, startRun.stderr);
    assert.match(d.find((r) => r.cmd === 'dominfo ' + name)!.stdout, /State:\s+running/);
    const uriIdx = d.findIndex((r) => r.cmd === 'uri');
    // The version command shows QEMU's version, the same on both.
    assert.match(d[0]!.stdout, /Running hypervisor: QEMU 7\.2\./);
    compare(d.filter((_, i) => i !== uriIdx), p.filter((_, i) => i !== uriIdx));
  });

  test('virsh -r and the read-only socket refuse destroy with libvirt\'s message', async () => {
    const viaRo = await virsh(px.uri('test', '/default', true), ['destroy', 'test']);
    assert.equal(viaRo.status, 1);
    assert.match(viaRo.stderr, /error: Failed to destroy domain 'test'\nerror: operation forbidden: read only access prevents virDomainDestroy/);
    const ro = await virsh(px.uri('test', '/default'), ['-r', 'destroy', 'test']);
    const roDirect = await virsh(direct.uri('test', '/default'), ['-r', 'destroy', 'test']);
    assert.deepEqual({ ...ro, cmd: '' }, { ...roDirect, cmd: '' });
    // Reads work read-only.
    const info = await virsh(px.uri('test', '/default', true), ['dominfo', 'test']);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /Name:\s+test/);
  });

  test('virsh event --all --loop: the same events, as libvirt sends them', async () => {
    const watch = (uri: string) => virshEvents(uri, 4);
    const act = async (uri: string, n: string) => {
      const f = join(tmp, `${n}.xml`);
      writeFileSync(f, testDomainXml(n, '3d6a4adc-4fc3-11d2-883f-0016d3cca429'));
      for (const args of [['define', f], ['start', n], ['suspend', n], ['resume', n], ['destroy', n], ['undefine', n]]) {
        const r = await virsh(uri, args);
        assert.equal(r.status, 0, r.stderr);
      }
    };
    const n = `rpc-ev-${process.pid}`;
    const [dOut, pOut] = await Promise.all([
      watch(direct.uri('test', '/default')),
      watch(px.uri('test', '/default')),
      (async () => {
        await new Promise((r) => setTimeout(r, 1500));
        await act(direct.uri('test', '/default'), n);
        await act(px.uri('test', '/default'), n);
      })(),
    ]);
    assert.match(dOut, new RegExp(`event 'lifecycle' for domain '${n}': Defined Added`));
    assert.match(dOut, new RegExp(`event 'lifecycle' for domain '${n}': Undefined Removed`));
    assert.equal(pOut, dOut);
  });
});

// A restarted daemon: a second driver state on the same directories finds the running networks,
// their dnsmasq, firewall, floors and ports, and can stop them cleanly; a network whose bridge
// vanished meanwhile is no longer active, and a dnsmasq that died is started again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import { NetworkDriverState } from '../../../src/drivers/network/networkDriverState.js';
import { skipUnless } from '../../helpers/system.js';
import { type Fixture, linkNames, nftTables, processAlive, setUp, sysctl, tcShow } from './networkFixture.js';

const skip = skipUnless({ root: true, commands: ['ip', 'nft', 'tc', 'dnsmasq'] });
const DOM = { domainName: 'guest1', domainUUID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' };

const XML = `<network>
  <name>tsvrs</name>
  <forward mode='nat'/>
  <bridge name='tsvbr-rs'/>
  <bandwidth><inbound average='1000' peak='5000'/></bandwidth>
  <ip address='192.168.83.1' prefix='24'><dhcp><range start='192.168.83.10' end='192.168.83.20'/></dhcp></ip>
</network>`;

describe('daemon restart', { skip }, () => {
  let fx: Fixture;
  before(async () => {
    fx = await setUp('restart');
  });
  after(() => fx?.cleanup());

  test('a second state sees the running network, its ports and floors, and stops it cleanly', async () => {
    const s1 = await fx.newState();
    const d1 = new NetworkDriver(s1);
    const ref = await d1.networkDefineXML(XML, 0);
    await d1.networkCreate(ref);
    const p1 = await s1.allocatePort('tsvrs', { ...DOM, mac: '52:54:00:00:01:01', bandwidth: { inbound: { floor: 100n } } });
    const p2 = await s1.allocatePort('tsvrs', { ...DOM, mac: '52:54:00:00:01:02' });
    const pidFile = join(fx.runDir, 'network/tsvrs.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const liveXml = await d1.networkGetXMLDesc(ref, 0);
    d1.close();

    const s2 = await fx.newState();
    const d2 = new NetworkDriver(s2);
    assert.equal(await d2.networkIsActive(ref), true);
    assert.equal(await d2.networkIsPersistent(ref), true);
    assert.equal(await d2.networkGetXMLDesc(ref, 0), liveXml, 'same live XML (connections, NAT ports)');
    assert.deepEqual(s2.listPorts('tsvrs').map((p) => p.uuid).sort(), [p1.uuid, p2.uuid].sort());
    assert.deepEqual(s2.lookupPort('tsvrs', p1.uuid), p1);
    assert.equal(Number(readFileSync(pidFile, 'utf8')), pid, 'dnsmasq was not restarted');
    assert.ok(processAlive(pid));
    assert.ok(nftTables().includes('table inet tsvirt_tsvbr_2drs'));
    assert.equal(sysctl('net/ipv4/ip_forward'), '1');
    // Class 3 is still taken: the next floor gets 4.
    const p3 = await s2.allocatePort('tsvrs', { ...DOM, mac: '52:54:00:00:01:03', bandwidth: { inbound: { floor: 100n } } });
    assert.equal(p3.classID, 4);
    await s2.releasePort('tsvrs', p1.uuid);
    assert.doesNotMatch(tcShow('tsvbr-rs', 'class'), /1:3 /);

    await d2.networkDestroy(ref);
    assert.ok(!linkNames().includes('tsvbr-rs'));
    assert.ok(!nftTables().some((t) => t.includes('tsvirt')));
    assert.ok(!processAlive(pid));
    assert.equal(sysctl('net/ipv4/ip_forward'), '0', 'forwarding off: the record survived the restart');
    assert.ok(!existsSync(join(fx.runDir, 'network/tsvrs')), 'port files gone');
    assert.ok(!existsSync(pidFile));
    await d2.networkUndefine(ref);
  });

  test('a network whose bridge vanished is inactive after the restart, and its leftovers are gone', async () => {
    const s1 = await fx.newState();
    const ref = await new NetworkDriver(s1).networkCreateXML(XML, 0);
    const pid = Number(readFileSync(join(fx.runDir, 'network/tsvrs.pid'), 'utf8'));
    execFileSync('ip', ['link', 'del', 'tsvbr-rs']);
    fx.warnings.length = 0;
    const s2 = await fx.newState();
    await assert.rejects(new NetworkDriver(s2).networkLookupByUUID(ref.uuid), { code: 43 }, 'transient and stopped: gone');
    assert.ok(fx.warnings.some((w) => /tsvrs.*no longer running/.test(w)));
    assert.ok(!processAlive(pid), 'its dnsmasq was stopped');
    assert.ok(!nftTables().some((t) => t.includes('tsvirt')));
    assert.equal(sysctl('net/ipv4/ip_forward'), '0');
    assert.ok(!existsSync(join(fx.runDir, 'network/tsvrs.xml')));
  });

  test('a port whose file was lost is taken back as it is (reclaim)', async () => {
    const s1 = await fx.newState();
    const ref = await new NetworkDriver(s1).networkCreateXML(XML, 0);
    const p = await s1.allocatePort('tsvrs', { ...DOM, mac: '52:54:00:00:01:09', bandwidth: { inbound: { floor: 100n } } });
    rmSync(join(fx.runDir, `network/tsvrs/ports/${p.uuid}.xml`));
    const s2 = await fx.newState();
    await assert.rejects(Promise.resolve().then(() => s2.lookupPort('tsvrs', p.uuid)), { code: 107 });
    assert.deepEqual(await s2.reclaimPort(p), p);
    assert.deepEqual(s2.lookupPort('tsvrs', p.uuid), p);
    assert.ok(existsSync(join(fx.runDir, `network/tsvrs/ports/${p.uuid}.xml`)));
    assert.match(await new NetworkDriver(s2).networkGetXMLDesc(ref, 0), /<network connections='1'>/);
    // Reclaiming a port that is known returns it unchanged; its class id stays taken.
    assert.deepEqual(await s2.reclaimPort(p), p);
    const q = await s2.allocatePort('tsvrs', { ...DOM, mac: '52:54:00:00:01:0a', bandwidth: { inbound: { floor: 100n } } });
    assert.equal(q.classID, 4);
    await s2.releasePort('tsvrs', p.uuid);
    assert.doesNotMatch(tcShow('tsvbr-rs', 'class'), /1:3 /);
    await new NetworkDriver(s2).networkDestroy(ref);
  });

  test('a running network without its host record is stopped by what its definition implies', async () => {
    const s1 = await fx.newState();
    const ref = await new NetworkDriver(s1).networkCreateXML(XML, 0);
    const pid = Number(readFileSync(join(fx.runDir, 'network/tsvrs.pid'), 'utf8'));
    rmSync(join(fx.runDir, 'network/tsvrs.host.json'));
    const s2 = await fx.newState();
    await new NetworkDriver(s2).networkDestroy(ref);
    assert.ok(!linkNames().includes('tsvbr-rs'));
    assert.ok(!nftTables().some((t) => t.includes('tsvirt')));
    assert.ok(!processAlive(pid));
  });

  test('one state per directory pair in a process', async () => {
    const opts = { configDir: join(fx.dir, 'etc'), runDir: join(fx.dir, 'run'), privileged: true, autostart: false, warn: () => undefined };
    const a = await NetworkDriverState.open(opts);
    const b = await NetworkDriverState.open(opts);
    assert.equal(a, b);
    const c = await NetworkDriverState.open({ ...opts, runDir: join(fx.dir, 'run2') });
    assert.notEqual(a, c);
    a.release();
    assert.equal(await NetworkDriverState.open(opts), a, 'still referenced once');
    a.release();
    a.release();
    const d = await NetworkDriverState.open(opts);
    assert.notEqual(d, a, 'all references gone: a new state');
    d.release();
    c.release();
  });

  test('a dnsmasq that died is started again', async () => {
    const s1 = await fx.newState();
    const d1 = new NetworkDriver(s1);
    const ref = await d1.networkCreateXML(XML, 0);
    const pidFile = join(fx.runDir, 'network/tsvrs.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 10));
    const s2 = await fx.newState();
    const pid2 = Number(readFileSync(pidFile, 'utf8'));
    assert.notEqual(pid2, pid);
    assert.ok(processAlive(pid2));
    await new NetworkDriver(s2).networkDestroy(ref);
    assert.ok(!processAlive(pid2));
  });
});

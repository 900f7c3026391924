// Networks on the real kernel in a test namespace: define, start and destroy networks of every
// forward mode and check what the host has (bridges, addresses, nftables tables, dnsmasq,
// sysctls) after each step, and that a stop removes exactly what the start made.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getLink } from '../../../src/host/link.js';
import { EventBroker } from '../../../src/drivers/events.js';
import type { NetworkEvent } from '../../../src/drivers/driver.js';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import type { NetworkDriverState } from '../../../src/drivers/network/networkDriverState.js';
import { skipUnless } from '../../helpers/system.js';
import { type Fixture, addresses, linkNames, nftTables, nftTable, processAlive, setUp, sysctl, tcShow } from './networkFixture.js';

const skip = skipUnless({ root: true, commands: ['ip', 'nft', 'tc', 'dnsmasq'] });

const NAT_XML = `<network>
  <name>tsvnat</name>
  <uuid>6a1c0a3e-5f7e-4f5b-9d0e-3c2b1a0f9e01</uuid>
  <forward mode='nat'/>
  <bridge name='tsvbr-nat' stp='on' delay='0'/>
  <mtu size='1400'/>
  <mac address='52:54:00:0a:0b:0c'/>
  <domain name='example.test'/>
  <dns>
    <host ip='192.168.77.5'><hostname>foo</hostname></host>
  </dns>
  <ip address='192.168.77.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.77.100' end='192.168.77.200'/>
      <host mac='52:54:00:11:22:33' name='h1' ip='192.168.77.10'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:77::1' prefix='64'/>
</network>`;

function events(d: NetworkDriver): NetworkEvent[] {
  const got: NetworkEvent[] = [];
  void d.networkEventRegisterAny(null, 0, (ev) => got.push(ev));
  return got;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('network lifecycle on the host', { skip }, () => {
  let fx: Fixture;
  let state: NetworkDriverState;
  let drv: NetworkDriver;

  before(async () => {
    fx = await setUp('life');
    state = await fx.newState();
    drv = new NetworkDriver(state, new EventBroker());
  });
  after(() => {
    drv?.close();
    fx?.cleanup();
  });

  test('a NAT network: bridge, addresses, firewall, forwarding, dnsmasq; destroy removes all of it', async () => {
    const seen = events(drv);
    const ref = await drv.networkDefineXML(NAT_XML, 0);
    assert.deepEqual(ref, { name: 'tsvnat', uuid: '6a1c0a3e-5f7e-4f5b-9d0e-3c2b1a0f9e01' });
    assert.ok(existsSync(join(fx.configDir, 'qemu/networks/tsvnat.xml')));
    assert.equal(await drv.networkIsActive(ref), false);
    const forwardBefore = sysctl('net/ipv4/ip_forward');
    assert.equal(forwardBefore, '0');

    await drv.networkCreate(ref);
    assert.equal(await drv.networkIsActive(ref), true);
    const link = await getLink(fx.netlink, 'tsvbr-nat');
    assert.ok(link, 'bridge exists');
    assert.equal(link.kind, 'bridge');
    assert.equal(link.mac, '52:54:00:0a:0b:0c');
    assert.equal(link.mtu, 1400);
    assert.equal(link.up, true);
    assert.ok(link.linkinfo && 'bridge' in link.linkinfo);
    // STP on raises a forward delay of 0 to the kernel's minimum of 2 s (200 clock ticks).
    assert.equal(link.linkinfo.bridge?.stpState, 1);
    assert.equal(link.linkinfo.bridge?.forwardDelay, 200);
    assert.deepEqual(addresses('tsvbr-nat').sort(), ['192.168.77.1/24', 'fd00:77::1/64'].sort());
    assert.equal(sysctl('net/ipv6/conf/tsvbr-nat/accept_ra'), '0');
    assert.equal(sysctl('net/ipv4/ip_forward'), '1');
    assert.equal(sysctl('net/ipv6/conf/all/forwarding'), '1');

    assert.ok(nftTables().includes('table inet tsvirt_tsvbr_2dnat'));
    const table = nftTable('tsvirt_tsvbr_2dnat');
    assert.match(table, /masquerade to :1024-65535/);
    assert.match(table, /iifname "tsvbr-nat" ip saddr 192\.168\.77\.0\/24|ip saddr 192\.168\.77\.0\/24 iifname "tsvbr-nat"/);

    const pidFile = join(fx.runDir, 'network/tsvnat.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(processAlive(pid), 'dnsmasq runs');
    const conf = readFileSync(join(fx.runDir, 'network/dnsmasq/tsvnat.conf'), 'utf8');
    assert.match(conf, /^dhcp-range=192\.168\.77\.100,192\.168\.77\.200,255\.255\.255\.0$/m);
    assert.match(conf, /^dhcp-range=fd00:77::1,ra-only$/m);
    assert.equal(readFileSync(join(fx.runDir, 'network/dnsmasq/tsvnat.hostsfile'), 'utf8'), '52:54:00:11:22:33,192.168.77.10,h1\n');
    assert.equal(readFileSync(join(fx.runDir, 'network/dnsmasq/tsvnat.addnhosts'), 'utf8'), '192.168.77.5\tfoo\t\n');

    // Live XML shows the port range the firewall uses; the persistent one does not.
    const live = await drv.networkGetXMLDesc(ref, 0);
    assert.match(live, /<forward mode='nat'>\n {4}<nat>\n {6}<port start='1024' end='65535'\/>/);
    const inactive = await drv.networkGetXMLDesc(ref, 1);
    assert.match(inactive, /<forward mode='nat'\/>/);
    assert.ok(existsSync(join(fx.runDir, 'network/tsvnat.xml')), 'status file');

    await drv.networkDestroy(ref);
    assert.equal(await drv.networkIsActive(ref), false);
    assert.ok(!linkNames().includes('tsvbr-nat'), 'bridge gone');
    assert.ok(!nftTables().some((t) => t.includes('tsvirt_')), 'firewall table gone');
    assert.ok(!processAlive(pid), 'dnsmasq stopped');
    assert.equal(sysctl('net/ipv4/ip_forward'), '0', 'forwarding switched off again');
    assert.equal(sysctl('net/ipv6/conf/all/forwarding'), '0');
    assert.ok(!existsSync(join(fx.runDir, 'network/tsvnat.xml')), 'status file gone');
    assert.ok(!existsSync(pidFile));
    assert.ok(!existsSync(join(fx.runDir, 'network/dnsmasq/tsvnat.conf')));

    await drv.networkUndefine(ref);
    assert.ok(!existsSync(join(fx.configDir, 'qemu/networks/tsvnat.xml')));
    await tick();
    assert.deepEqual(
      seen.map((e) => e.event),
      [0, 2, 3, 1],
      'DEFINED, STARTED, STOPPED, UNDEFINED',
    );
    assert.ok(seen.every((e) => e.net.name === 'tsvnat' && e.eventId === 0 && e.detail === 0));
  });

  test('isolated, routed and open networks get the firewall their mode calls for', async () => {
    const iso = await drv.networkCreateXML(
      `<network><name>tsviso</name><bridge name='tsvbr-iso'/><ip address='10.91.0.1' prefix='24'/></network>`,
      0,
    );
    const route = await drv.networkCreateXML(
      `<network><name>tsvroute</name><forward mode='route'/><bridge name='tsvbr-rt'/><ip address='10.92.0.1' prefix='24'/></network>`,
      0,
    );
    const open = await drv.networkCreateXML(
      `<network><name>tsvopen</name><forward mode='open'/><bridge name='tsvbr-open'/><ip address='10.93.0.1' prefix='24'/></network>`,
      0,
    );
    try {
      const isoTable = nftTable('tsvirt_tsvbr_2diso');
      assert.doesNotMatch(isoTable, /accept\n[\s\S]*saddr/, 'isolated: no subnet accepts');
      assert.match(isoTable, /oifname "tsvbr-iso" counter packets \d+ bytes \d+ reject/);
      assert.doesNotMatch(isoTable, /guest_nat/);
      const rtTable = nftTable('tsvirt_tsvbr_2drt');
      assert.match(rtTable, /ip daddr 10\.92\.0\.0\/24 oifname "tsvbr-rt" counter packets \d+ bytes \d+ accept/);
      assert.doesNotMatch(rtTable, /masquerade/);
      assert.ok(!nftTables().some((t) => t.includes('tsvbr_2dopen')), 'open: no firewall');
      assert.equal(sysctl('net/ipv4/ip_forward'), '1');
      assert.equal(sysctl('net/ipv6/conf/tsvbr-iso/disable_ipv6'), '1', 'no IPv6 address: IPv6 off on the bridge');
      // Transient networks: not persistent, no config.
      assert.equal(await drv.networkIsPersistent(iso), false);
      assert.ok(!existsSync(join(fx.configDir, 'qemu/networks/tsviso.xml')));
    } finally {
      await drv.networkDestroy(iso);
      await drv.networkDestroy(route);
      assert.equal(sysctl('net/ipv4/ip_forward'), '1', 'the open network still needs forwarding');
      await drv.networkDestroy(open);
    }
    assert.equal(sysctl('net/ipv4/ip_forward'), '0');
    assert.deepEqual(
      linkNames().filter((l) => l.startsWith('tsvbr')),
      [],
    );
    assert.deepEqual(nftTables(), []);
    // Transient networks are gone after destroy.
    await assert.rejects(drv.networkLookupByName('tsviso'), { code: 43, domain: 19, message: "Network not found: no network with matching name 'tsviso'" });
  });

  // Inbound only: this machine's kernel has no police action (act_police) for outbound limits.
  test('a bridge network uses an existing host bridge and puts its bandwidth there', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('ip', ['link', 'add', 'tsvhostbr', 'type', 'bridge']);
    execFileSync('ip', ['link', 'set', 'tsvhostbr', 'up']);
    try {
      const ref = await drv.networkCreateXML(
        `<network><name>tsvbr</name><forward mode='bridge'/><bridge name='tsvhostbr'/>
          <bandwidth><inbound average='1000' peak='5000' burst='5120'/></bandwidth></network>`,
        0,
      );
      assert.equal(await drv.networkGetBridgeName(ref), 'tsvhostbr');
      assert.match(tcShow('tsvhostbr', 'class'), /class htb 1:1 root rate 8Mbit ceil 40Mbit/);
      assert.match(tcShow('tsvhostbr', 'qdisc'), /qdisc htb 1: root/);
      await drv.networkDestroy(ref);
      assert.ok(linkNames().includes('tsvhostbr'), 'the host bridge stays');
      assert.doesNotMatch(tcShow('tsvhostbr', 'qdisc'), /htb|ingress/, 'its shaping is gone');
    } finally {
      execFileSync('ip', ['link', 'del', 'tsvhostbr']);
    }
  });

  test('a start that fails half way leaves nothing behind', async () => {
    // The second address collides with the first network's route: checked before anything.
    const a = await drv.networkCreateXML(`<network><name>tsva</name><bridge name='tsvbr-a'/><ip address='10.94.0.1' prefix='24'/></network>`, 0);
    await assert.rejects(
      drv.networkCreateXML(`<network><name>tsvb</name><bridge name='tsvbr-b'/><ip address='10.94.0.2' prefix='24'/></network>`, 0),
      { code: 1, message: 'internal error: Network is already in use by interface tsvbr-a' },
    );
    // A bridge of that name exists on the host already.
    const { execFileSync } = await import('node:child_process');
    execFileSync('ip', ['link', 'add', 'tsvbr-x', 'type', 'bridge']);
    await assert.rejects(drv.networkCreateXML(`<network><name>tsvx</name><bridge name='tsvbr-x'/><ip address='10.96.0.1' prefix='24'/></network>`, 0), {
      code: 38,
      domain: 0,
      message: 'error creating bridge interface tsvbr-x: File exists',
    });
    execFileSync('ip', ['link', 'del', 'tsvbr-x']);
    // A dnsmasq option it refuses: bridge, firewall and addresses are already made by then.
    const before = { links: linkNames(), tables: nftTables() };
    await assert.rejects(
      drv.networkCreateXML(
        `<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>tsvc</name><forward mode='nat'/><bridge name='tsvbr-c'/>
          <ip address='10.95.0.1' prefix='24'><dhcp><range start='10.95.0.10' end='10.95.0.20'/></dhcp></ip>
          <dnsmasq:options><dnsmasq:option value='no-such-option=1'/></dnsmasq:options></network>`,
        0,
      ),
      (err: Error & { code?: number }) => err.code === 1 && /dnsmasq: bad option at line \d+ of .*tsvc\.conf/.test(err.message),
    );
    assert.deepEqual(linkNames(), before.links);
    assert.deepEqual(nftTables(), before.tables);
    assert.equal(sysctl('net/ipv4/ip_forward'), '0');
    assert.ok(!existsSync(join(fx.runDir, 'network/tsvc.xml')));
    assert.deepEqual(readdirSync(join(fx.runDir, 'network/dnsmasq')).filter((f) => f.startsWith('tsvc')), []);
    await assert.rejects(drv.networkLookupByName('tsvc'), { code: 43 });
    await drv.networkDestroy(a);
  });

  test('a start failing at its last step (bandwidth) stops the dnsmasq it had started', async (t) => {
    // Outbound limits need tc's police action; this machine's kernel has none, which makes the
    // shaping step fail after everything else has been set up.
    const { execFileSync, spawnSync } = await import('node:child_process');
    execFileSync('ip', ['link', 'add', 'tsvprobe', 'type', 'bridge']);
    execFileSync('tc', ['qdisc', 'add', 'dev', 'tsvprobe', 'ingress']);
    const police = spawnSync('tc', ['filter', 'add', 'dev', 'tsvprobe', 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'police', 'rate', '1kbps', 'burst', '1kb', 'drop']);
    execFileSync('ip', ['link', 'del', 'tsvprobe']);
    if (police.status === 0) {
      t.skip('the kernel has the police action: the bandwidth step does not fail here');
      return;
    }
    const dnsmasqBefore = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(fx.dir)).length;
    await assert.rejects(
      drv.networkCreateXML(
        `<network><name>tsvbw</name><forward mode='nat'/><bridge name='tsvbr-bw'/><bandwidth><outbound average='100'/></bandwidth>
          <ip address='10.98.0.1' prefix='24'><dhcp><range start='10.98.0.10' end='10.98.0.20'/></dhcp></ip></network>`,
        0,
      ),
      /police/,
    );
    assert.ok(fx.runner.lines().some((l) => l.includes('tsvbw.conf')), 'dnsmasq had been started');
    assert.equal(execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(fx.dir)).length, dnsmasqBefore);
    assert.ok(!linkNames().includes('tsvbr-bw'));
    assert.deepEqual(nftTables(), []);
    assert.equal(sysctl('net/ipv4/ip_forward'), '0');
    assert.deepEqual(readdirSync(join(fx.runDir, 'network/dnsmasq')).filter((f) => f.startsWith('tsvbw') && !f.endsWith('.leases')), []);
  });
});

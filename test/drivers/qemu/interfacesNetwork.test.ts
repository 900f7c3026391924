// type='network' through the network driver on the same connection (a NAT network: bridge,
// dnsmasq, a port per interface, released at stop), direct passthrough on a plain NIC (a veth
// whose MAC the guest borrows and gets back), and type='hostdev' on simulated SR-IOV hardware
// (sysfs tree + netlink endpoint of host-netdev): QEMU cannot open a simulated VF, so the start
// fails, and the VF must be back on its host driver with its admin MAC and no state file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Connection, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { parseConnectURI } from '../../../src/drivers/connectUri.js';
import { openQemuDriver } from '../../../src/drivers/qemu/index.js';
import { guestSkipReason, type GuestConsole } from '../../helpers/guest.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { SimulatedSriovHost } from '../../helpers/sysfsTree.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { destroyAll, embedURI, openEmbed, startWithConsole } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ root: true, commands: ['qemu-system-x86_64', 'ip', 'dnsmasq', 'nft'] }) || guestSkipReason();

function link(name: string): { address: string; master?: string } | undefined {
  try {
    return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'dev', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()) as {
      address: string;
      master?: string;
    }[])[0];
  } catch {
    return undefined;
  }
}

describe('type=network and direct passthrough (root, network namespace, test guest)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-ifnet-${process.pid}-`);
  const root = join(tmp.path, 'root');
  let ns: TestNetns;
  let conn: Connection;
  let guest: GuestConsole | undefined;

  before(async () => {
    ns = enterTestNetns('qrnet');
    conn = await openEmbed(root);
  });
  after(async () => {
    guest?.close();
    await destroyAll(conn);
    for (const n of await conn?.listAllNetworks(2).catch(() => []) ?? []) await n.destroy().catch(() => undefined);
    await conn?.close();
    ns?.leave();
    tmp.remove();
  });

  test('a guest on a NAT network: a port, a tap on its bridge, a DHCP lease, the port released at stop', async () => {
    const net = await conn.networkCreateXML(`<network>
  <name>qrnat</name>
  <forward mode='nat'/>
  <bridge name='qrnatbr0'/>
  <ip address='192.168.231.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.231.10' end='192.168.231.20'/></dhcp>
  </ip>
</network>`);
    assert.equal(await net.isActive(), true);
    const mac = '52:54:00:2e:00:01';
    const dom = await conn.domainDefineXML(
      guestDomainXML({ name: 'nw1', interfaces: [`<interface type='network'><mac address='${mac}'/><source network='qrnat'/><model type='virtio'/></interface>`] }),
    );
    guest = await startWithConsole(dom);
    const live = await dom.getXMLDesc();
    const tap = /<target dev='(vnet\d+)'\/>/.exec(live)?.[1];
    assert.ok(tap, live);
    assert.equal(link(tap)?.master, 'qrnatbr0');
    assert.match(live, /<source network='qrnat' portid='[0-9a-f-]{36}' bridge='qrnatbr0'\/>/);
    const ports = readdirSync(join(root, 'run', 'network', 'qrnat', 'ports')).filter((f) => f.endsWith('.xml'));
    assert.equal(ports.length, 1, 'one port file while running');

    await guest.waitReady(90_000);
    await guest.waitPrompt();
    let lease = '';
    for (let i = 0; i < 120 && !lease; i++) {
      lease = (await guest.run('cat /run/dhcp.eth0 2>/dev/null')).trim();
      if (!lease) await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(lease, /^192\.168\.231\.(1\d|20)\/24$/);
    const addrs = await dom.interfaceAddresses(0 /* LEASE */);
    assert.deepEqual(
      addrs.map((a) => [a.hwaddr, a.addrs[0]?.addr]),
      [[mac, lease.split('/')[0]]],
    );

    await dom.destroy();
    guest.close();
    guest = undefined;
    assert.equal(link(tap), undefined, 'the tap went with QEMU');
    assert.deepEqual(
      readdirSync(join(root, 'run', 'network', 'qrnat', 'ports')).filter((f) => f.endsWith('.xml')),
      [],
      'the port was released',
    );
    await assert.rejects(
      conn.domainDefineXML(guestDomainXML({ name: 'nw2', interfaces: ["<interface type='network'><source network='nosuchnet'/></interface>"] })).then((d) => d.create()),
      (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.NO_NETWORK,
    );
  });

  test('direct passthrough on a plain NIC: the guest MAC on the device while running, the old one back after', async () => {
    execFileSync('ip', ['link', 'add', 'qrpt0', 'type', 'veth', 'peer', 'name', 'qrpt1']);
    execFileSync('ip', ['link', 'set', 'qrpt0', 'address', '9a:00:00:00:00:31']);
    const mac = '52:54:00:2e:00:31';
    const dom = await conn.domainDefineXML(
      guestDomainXML({ name: 'pt1', interfaces: [`<interface type='direct'><mac address='${mac}'/><source dev='qrpt0' mode='passthrough'/><model type='virtio'/></interface>`] }),
    );
    await dom.createWithFlags(1);
    const live = await dom.getXMLDesc();
    const mvt = /<target dev='(macvtap\d+)'\/>/.exec(live)?.[1];
    assert.ok(mvt, live);
    assert.equal(link('qrpt0')?.address, mac, 'the device carries the guest MAC');
    assert.equal(existsSync(join(root, 'run', 'qemu', 'qrpt0')), true, 'its old MAC is saved');
    await dom.destroy();
    assert.equal(link(mvt), undefined);
    assert.equal(link('qrpt0')?.address, '9a:00:00:00:00:31');
    assert.equal(existsSync(join(root, 'run', 'qemu', 'qrpt0')), false);
  });
});

describe('type=hostdev on a simulated SR-IOV host', { skip: skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason() }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-ifhd-${process.pid}-`);
  const sim = new SimulatedSriovHost('qemuhd');
  const vfs = sim.addPf({ address: '0000:02:00.0', netdevs: [{ name: 'enp2s0f0', mac: '90:e2:ba:00:00:01', up: true }], vfs: 2 });
  let conn: Connection;

  before(async () => {
    const uri = embedURI(join(tmp.path, 'root'));
    const driver = await openQemuDriver(parseConnectURI(uri), { readonly: false, driverOptions: { net: sim.host } });
    conn = new Connection(driver, { readonly: false, uri });
  });
  after(async () => {
    await conn?.close();
    sim.remove();
    tmp.remove();
  });

  test('the VF is detached and configured, QEMU cannot open it, and everything is undone', async () => {
    const dom = await conn.domainDefineXML(
      guestDomainXML({
        name: 'hd1',
        interfaces: [
          "<interface type='hostdev' managed='yes'><mac address='52:54:00:6d:90:02'/><source><address type='pci' domain='0x0000' bus='0x02' slot='0x10' function='0x0'/></source></interface>",
        ],
      }),
    );
    assert.equal(sim.driverOf(vfs[0]!), 'iavf');
    await assert.rejects(dom.create(), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.match(err.message, /vfio|0000:02:10\.0/i);
      return true;
    });
    // Detached to vfio-pci, admin MAC set — and then all of it undone.
    assert.ok(sim.events.some((e) => /vfio-pci/.test(e)), sim.events.join('\n'));
    assert.ok(sim.events.some((e) => /52:54:00:6d:90:02/.test(e)), sim.events.join('\n'));
    assert.equal(sim.driverOf(vfs[0]!), 'iavf', 'VF back on its host driver');
    assert.deepEqual(sim.netdevsOf(vfs[0]!), ['enp2s0f0v0']);
    // The admin MAC no longer carries the guest's (spec §2.2: the VF's own MAC is put back).
    assert.notEqual(sim.kernel.link('enp2s0f0')?.vfs?.[0]?.mac, '52:54:00:6d:90:02', 'admin MAC restored');
    assert.deepEqual(readdirSync(join(tmp.path, 'root', 'run', 'hostdevmgr')), [], 'no state file left');
    assert.deepEqual(await dom.getState(), { state: 5, reason: 6 });
  });
});

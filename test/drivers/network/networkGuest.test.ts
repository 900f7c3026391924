// A real guest on a network: the test guest (make guest) boots under QEMU with a tap in the
// network's bridge, gets its address from the network's dnsmasq, and the driver reports the
// lease; traffic the host sends it is counted in the floor class of its port.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { netHost } from '../../../src/host/netHost.js';
import { closeTapFds, createTap } from '../../../src/host/tap.js';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import type { NetworkDriverState } from '../../../src/drivers/network/networkDriverState.js';
import { GUEST_READY, guestSkipReason, startRawGuest, type RawGuest } from '../../helpers/guest.js';
import { skipUnless } from '../../helpers/system.js';
import { type Fixture, TAG, setUp, tcShow } from './networkFixture.js';

const skip = skipUnless({ root: true, commands: ['ip', 'nft', 'tc', 'dnsmasq', 'busybox', 'qemu-system-x86_64'] }) || guestSkipReason();
const MAC = '52:54:00:5e:00:01';

describe('a guest on a NAT network', { skip, timeout: 240000 }, () => {
  let fx: Fixture;
  let state: NetworkDriverState;
  let drv: NetworkDriver;
  let guest: RawGuest | undefined;
  const dir = mkdtempSync(join(tmpdir(), `tsvirt-${TAG}-guest-${process.pid}-`));

  before(async () => {
    fx = await setUp('guest');
    state = await fx.newState();
    drv = new NetworkDriver(state);
  });
  after(async () => {
    await guest?.stop().catch(() => undefined);
    drv?.close();
    fx?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('gets a DHCP lease the driver reports; host traffic to it goes through its floor class', async () => {
    const net = await drv.networkCreateXML(
      `<network><name>tsvguest</name><forward mode='nat'/><bridge name='tsvbr-g'/>
        <bandwidth><inbound average='1000' peak='5000'/></bandwidth>
        <ip address='192.168.85.1' prefix='24'><dhcp><range start='192.168.85.50' end='192.168.85.60'/></dhcp></ip></network>`,
      0,
    );
    const port = await state.allocatePort('tsvguest', { domainName: 'g', domainUUID: '0f0e0d0c-0b0a-4908-8706-0504030201ff', mac: MAC, bandwidth: { inbound: { floor: 100n } } });
    assert.equal(port.plug.type, 'network');
    const bridge = port.plug.type === 'network' ? port.plug.bridge : '';
    const tap = await createTap(netHost({ netlink: fx.netlink }), { name: 'tsvtap0', guestMac: MAC, bridge, vnetHdr: true });
    try {
      guest = await startRawGuest({
        dir,
        name: 'tsvnetguest',
        nics: [{ mac: MAC, netdev: 'tap,fd=3,vhost=off' }],
        fds: new Map([[3, tap.fds[0]!]]),
      });
    } finally {
      closeTapFds(tap);
    }
    await guest.guest.waitFor(GUEST_READY, 180000);
    let leases = await drv.networkGetDHCPLeases(net, MAC, 0);
    for (let i = 0; i < 600 && leases.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      leases = await drv.networkGetDHCPLeases(net, MAC, 0);
    }
    assert.equal(leases.length, 1, 'lease');
    const ip = leases[0]!.ipaddr;
    assert.match(ip, /^192\.168\.85\.(5\d|60)$/);
    assert.equal(leases[0]!.hostname, 'tsvirt-guest');
    const before = Number(/class htb 1:3 [\s\S]*?Sent (\d+) bytes/.exec(execFileSync('tc', ['-s', 'class', 'show', 'dev', bridge, 'classid', '1:3']).toString())?.[1] ?? 0);
    execFileSync('busybox', ['ping', '-c', '3', '-W', '5', ip], { stdio: 'ignore' });
    const after = Number(/Sent (\d+) bytes/.exec(execFileSync('tc', ['-s', 'class', 'show', 'dev', bridge, 'classid', '1:3']).toString())?.[1] ?? 0);
    assert.ok(after > before, `class 1:3 counted the pings (${before} → ${after} bytes)`);
    assert.match(tcShow(bridge, 'class'), /class htb 1:3 parent 1:1/);
    await guest.stop();
    guest = undefined;
    await state.releasePort('tsvguest', port.uuid);
    await drv.networkDestroy(net);
  });
});

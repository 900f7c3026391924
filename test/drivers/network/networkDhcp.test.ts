// dnsmasq for real: a client in another network namespace, on a veth whose peer is a port of
// the network's bridge, asks for a lease with busybox udhcpc and looks a name up; the driver
// reads the lease back (getDHCPLeases) the way virsh net-dhcp-leases shows it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { EventBroker } from '../../../src/drivers/events.js';
import type { NetworkRef } from '../../../src/drivers/driver.js';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import { skipUnless } from '../../helpers/system.js';
import { type Fixture, setUp } from './networkFixture.js';

const skip = skipUnless({ root: true, commands: ['ip', 'nft', 'dnsmasq', 'busybox'] });

const XML = `<network>
  <name>tsvdhcp</name>
  <forward mode='nat'/>
  <bridge name='tsvbr-dhcp'/>
  <domain name='example.test'/>
  <dns><host ip='192.168.79.5'><hostname>foo</hostname></host></dns>
  <ip address='192.168.79.1' prefix='24'>
    <dhcp>
      <range start='192.168.79.100' end='192.168.79.110'><lease expiry='2' unit='hours'/></range>
      <host mac='52:54:00:11:22:33' name='fixed' ip='192.168.79.10'/>
    </dhcp>
  </ip>
</network>`;

describe('DHCP and DNS from the network dnsmasq', { skip }, () => {
  let fx: Fixture;
  let drv: NetworkDriver;
  let ref: NetworkRef;
  const client = `tsv-netdrv-cli-${process.pid}`;

  const inClient = (...args: string[]) => execFileSync('ip', ['netns', 'exec', client, ...args], { timeout: 30000 }).toString();
  /** udhcpc reports on stderr; the bridge port forwards only after STP's 2 × 2 s, so it retries. */
  const udhcpc = (...extra: string[]) => {
    const r = spawnSync('ip', ['netns', 'exec', client, 'busybox', 'udhcpc', '-i', 'tsvv1', '-n', '-q', '-f', '-t', '15', '-T', '1', '-s', '/bin/true', ...extra], {
      timeout: 30000,
    });
    return `${r.stdout}${r.stderr}`;
  };

  before(async () => {
    fx = await setUp('dhcp');
    drv = new NetworkDriver(await fx.newState(), new EventBroker());
    ref = await drv.networkCreateXML(XML, 0);
    execFileSync('ip', ['netns', 'add', client]);
    execFileSync('ip', ['link', 'add', 'tsvv0', 'type', 'veth', 'peer', 'name', 'tsvv1']);
    execFileSync('ip', ['link', 'set', 'tsvv0', 'master', 'tsvbr-dhcp', 'up']);
    execFileSync('ip', ['link', 'set', 'tsvv1', 'netns', client]);
    inClient('ip', 'link', 'set', 'lo', 'up');
    inClient('ip', 'link', 'set', 'tsvv1', 'up');
  });
  after(async () => {
    try {
      execFileSync('ip', ['netns', 'del', client]);
    } catch {
      // not created
    }
    if (ref) await drv.networkDestroy(ref).catch(() => undefined);
    drv?.close();
    fx?.cleanup();
  });

  test('a client gets a lease from the range and the driver reports it', async () => {
    const mac = JSON.parse(inClient('ip', '-j', 'link', 'show', 'tsvv1'))[0].address as string;
    const before = Math.floor(Date.now() / 1000);
    const out = udhcpc('-x', 'hostname:guest1');
    assert.match(out, /lease of 192\.168\.79\.1(0[0-9]|10) obtained/);
    const leases = await drv.networkGetDHCPLeases(ref, null, 0);
    assert.equal(leases.length, 1);
    const l = leases[0]!;
    assert.equal(l.iface, 'tsvbr-dhcp');
    assert.equal(l.mac, mac);
    assert.equal(l.type, 0);
    assert.equal(l.prefix, 24);
    assert.equal(l.hostname, 'guest1');
    assert.match(l.ipaddr, /^192\.168\.79\.1(0[0-9]|10)$/);
    // lease expiry='2' unit='hours'
    const expiry = Number(l.expirytime);
    assert.ok(expiry >= before + 7200 - 5 && expiry <= before + 7200 + 60, `expiry ${expiry}`);
    assert.equal((await drv.networkGetDHCPLeases(ref, mac.toUpperCase(), 0)).length, 1, 'MAC filter, any case');
    assert.equal((await drv.networkGetDHCPLeases(ref, '52:54:00:99:99:99', 0)).length, 0);
  });

  test('a host entry gets its fixed address; names resolve through the network DNS', async () => {
    inClient('ip', 'link', 'set', 'tsvv1', 'down');
    inClient('ip', 'link', 'set', 'tsvv1', 'address', '52:54:00:11:22:33');
    inClient('ip', 'link', 'set', 'tsvv1', 'up');
    const out = udhcpc();
    assert.match(out, /lease of 192\.168\.79\.10 obtained/);
    const fixed = await drv.networkGetDHCPLeases(ref, '52:54:00:11:22:33', 0);
    assert.equal(fixed.length, 1);
    assert.equal(fixed[0]!.ipaddr, '192.168.79.10');
    inClient('ip', 'addr', 'add', '192.168.79.10/24', 'dev', 'tsvv1');
    // busybox nslookup also asks for AAAA, which dnsmasq forwards and gets refused (no upstream
    // in the test namespace), so its exit status says nothing: read the answer.
    const r = spawnSync('ip', ['netns', 'exec', client, 'busybox', 'nslookup', 'foo.example.test', '192.168.79.1'], { timeout: 30000 });
    assert.match(`${r.stdout}`, /Name:\s*foo\.example\.test\nAddress:\s*192\.168\.79\.5\n/);
  });

  test('getDHCPLeases refuses a malformed MAC and unknown flags', async () => {
    await assert.rejects(drv.networkGetDHCPLeases(ref, 'zz', 0), { code: 44, domain: 19, message: 'invalid MAC address: zz' });
    await assert.rejects(drv.networkGetDHCPLeases(ref, null, 1), {
      code: 8,
      domain: 19,
      message: 'unsupported flags (0x1) in function networkGetDHCPLeases',
    });
  });
});

// The dnsmasq configuration of a network against what libvirt 9.0 wrote for the same network on
// this machine (/var/lib/libvirt/dnsmasq/NAME.conf, recorded), apart from the header, the file
// paths and tsvirt's dhcp-leasefile line; and dnsmasq's lease file format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetworkXML } from '../../../src/conf/network/index.js';
import { dnsmasqConfig, dnsmasqLeaseTime, networkNeedsDnsmasq, parseDnsmasqLeases, ptrDomain } from '../../../src/drivers/network/dnsmasq.js';
import { parseSocketAddr } from '../../../src/conf/network/socketAddr.js';

const paths = {
  conf: '/R/dnsmasq/N.conf',
  hostsFile: '/R/dnsmasq/N.hostsfile',
  addnHostsFile: '/R/dnsmasq/N.addnhosts',
  leaseFile: '/R/dnsmasq/N.leases',
  pidFile: '/R/N.pid',
};

/** The options only (no comments), with tsvirt's lease file line removed. */
function options(conf: string): string[] {
  return conf
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('dhcp-leasefile='));
}

// libvirt 9.0's file for this network, from /var/lib/libvirt/dnsmasq/ndt1.conf, with its paths
// replaced by the test's.
const NAT = `<network>
  <name>ndt1</name>
  <forward mode='nat'/>
  <bridge name='ndbr1' stp='on' delay='0'/>
  <mtu size='1400'/>
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
const NAT_LIBVIRT = `strict-order
domain=example.test
expand-hosts
pid-file=/R/N.pid
except-interface=lo
bind-dynamic
interface=ndbr1
dhcp-range=192.168.77.100,192.168.77.200,255.255.255.0
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=101
dhcp-hostsfile=/R/dnsmasq/N.hostsfile
addn-hosts=/R/dnsmasq/N.addnhosts
dhcp-option=option:mtu,1400
dhcp-range=fd00:77::1,ra-only`;

const ISOLATED = `<network><name>ndt2</name><bridge name='ndbr2'/>
  <ip address='10.77.0.1' prefix='24'>
    <dhcp><range start='10.77.0.10' end='10.77.0.20'><lease expiry='2' unit='hours'/></range></dhcp>
  </ip></network>`;
const ISOLATED_LIBVIRT = `strict-order
pid-file=/R/N.pid
except-interface=lo
bind-dynamic
interface=ndbr2
dhcp-option=3
no-resolv
ra-param=*,0,0
dhcp-range=10.77.0.10,10.77.0.20,255.255.255.0,2h
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=11
dhcp-hostsfile=/R/dnsmasq/N.hostsfile
addn-hosts=/R/dnsmasq/N.addnhosts`;

const DUAL = `<network><name>ndiso</name><bridge name='ndbr9'/>
  <ip address='10.91.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.91.0.5'/></dhcp></ip>
  <ip family='ipv6' address='fd00:91::1' prefix='64'><dhcp><range start='fd00:91::10' end='fd00:91::20'/></dhcp></ip></network>`;
const DUAL_LIBVIRT = `strict-order
pid-file=/R/N.pid
except-interface=lo
bind-dynamic
interface=ndbr9
dhcp-option=3
no-resolv
ra-param=*,0,0
dhcp-range=10.91.0.1,static
dhcp-no-override
dhcp-authoritative
dhcp-range=fd00:91::10,fd00:91::20,64
dhcp-lease-max=17
dhcp-hostsfile=/R/dnsmasq/N.hostsfile
addn-hosts=/R/dnsmasq/N.addnhosts
enable-ra`;

const ROUTED = `<network><name>ndt3</name><forward mode='route' dev='lo'/><bridge name='virbr1'/><ip address='10.78.0.1' prefix='24'/></network>`;
const ROUTED_LIBVIRT = `strict-order
pid-file=/R/N.pid
except-interface=lo
bind-dynamic
interface=virbr1
addn-hosts=/R/dnsmasq/N.addnhosts`;

for (const [name, xml, expected, hosts, addn] of [
  ['nat with dhcp host, dns host and ipv6 ra-only', NAT, NAT_LIBVIRT, '52:54:00:11:22:33,192.168.77.10,h1\n', '192.168.77.5\tfoo\t\n'],
  ['isolated with lease time', ISOLATED, ISOLATED_LIBVIRT, '', ''],
  ['static-only IPv4 and DHCPv6', DUAL, DUAL_LIBVIRT, '52:54:00:00:00:01,10.91.0.5\n', ''],
  ['routed without dhcp', ROUTED, ROUTED_LIBVIRT, '', ''],
] as const) {
  test(`dnsmasq config as libvirt 9.0 writes it: ${name}`, () => {
    const files = dnsmasqConfig(parseNetworkXML(xml), paths);
    assert.deepEqual(options(files.conf), expected.split('\n'));
    assert.match(files.conf, /^dhcp-leasefile=\/R\/dnsmasq\/N\.leases$/m);
    assert.equal(files.hosts, hosts);
    assert.equal(files.addnHosts, addn);
  });
}

test('dns options: forwarders, txt, srv, disabled dns, plain names, local PTR, extra options', () => {
  const def = parseNetworkXML(`<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>
    <name>n</name><forward mode='nat'/><bridge name='br'/>
    <domain name='lab' localOnly='yes'/>
    <dns forwardPlainNames='no'>
      <forwarder addr='8.8.8.8'/><forwarder domain='corp' addr='10.0.0.53'/><forwarder domain='blocked'/>
      <txt name='t' value='v'/>
      <srv service='ldap' protocol='tcp' domain='lab' target='s' port='389' priority='1' weight='2'/>
      <srv service='x' protocol='udp' target='.'/>
      <host ip='10.1.0.5'><hostname>a</hostname><hostname>b</hostname></host>
      <host ip='10.1.0.5'><hostname>c</hostname></host>
    </dns>
    <ip address='10.1.0.1' prefix='24' localPtr='yes'/>
    <ip family='ipv6' address='fd00:1::1' prefix='64' localPtr='yes'/>
    <dnsmasq:options><dnsmasq:option value='log-queries'/></dnsmasq:options>
  </network>`, { dnsmasqNamespace: true });
  const f = dnsmasqConfig(def, paths);
  assert.deepEqual(options(f.conf).slice(0, 14), [
    'strict-order',
    'server=8.8.8.8',
    'server=/corp/10.0.0.53',
    'server=/blocked/#',
    'no-resolv',
    'local=/lab/',
    'domain=lab',
    'expand-hosts',
    'local=/0.1.10.in-addr.arpa/',
    'local=/0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa/',
    'domain-needed',
    'local=//',
    'pid-file=/R/N.pid',
    'except-interface=lo',
  ]);
  assert.ok(options(f.conf).includes('txt-record=t,v'));
  assert.ok(options(f.conf).includes('srv-host=_ldap._tcp.lab,s,389,1,2'));
  assert.ok(options(f.conf).includes('srv-host=_x._udp'));
  assert.equal(options(f.conf).at(-1), 'log-queries');
  assert.equal(f.addnHosts, '10.1.0.5\ta\tb\tc\t\n');

  const off = dnsmasqConfig(parseNetworkXML(`<network><name>n</name><bridge name='br'/><dns enable='no'/><ip address='10.1.0.1' prefix='24'><dhcp><range start='10.1.0.2' end='10.1.0.3'/></dhcp></ip></network>`), paths);
  assert.ok(options(off.conf).includes('port=0'));
  assert.ok(!options(off.conf).some((l) => l.startsWith('addn-hosts')));
});

test('a PTR domain only for prefixes on a label boundary', () => {
  assert.equal(ptrDomain(parseSocketAddr('192.168.122.1')!, 24), '122.168.192.in-addr.arpa');
  assert.equal(ptrDomain(parseSocketAddr('10.0.0.1')!, 8), '10.in-addr.arpa');
  assert.equal(ptrDomain(parseSocketAddr('10.0.0.1')!, 20), undefined);
  assert.equal(ptrDomain(parseSocketAddr('fd00:1::1')!, 64), '0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa');
  assert.throws(
    () => dnsmasqConfig(parseNetworkXML(`<network><name>n</name><bridge name='br'/><ip address='10.1.0.1' prefix='20' localPtr='yes'/></network>`), paths),
    { code: 67, domain: 19, message: 'unsupported configuration: PTR domain for IPv4 network with prefix 20 cannot be automatically created' },
  );
});

test('dhcp hosts: IPv6 ids and names, lease times', () => {
  const def = parseNetworkXML(`<network><name>n</name><bridge name='br'/>
    <ip address='10.1.0.1' prefix='24'><dhcp><range start='10.1.0.10' end='10.1.0.20'><lease expiry='0'/></range>
      <host name='only' ip='10.1.0.3'><lease expiry='300' unit='seconds'/></host></dhcp></ip>
    <ip family='ipv6' address='fd00:1::1' prefix='64'><dhcp><range start='fd00:1::10' end='fd00:1::20'/>
      <host id='0:3:0:1:0:16:3e:11:22:33' name='v6a' ip='fd00:1::5'/><host name='v6b' ip='fd00:1::6'/></dhcp></ip></network>`);
  const f = dnsmasqConfig(def, paths);
  assert.ok(options(f.conf).includes('dhcp-range=10.1.0.10,10.1.0.20,255.255.255.0,infinite'));
  assert.equal(f.hosts, 'only,10.1.0.3,300s\nid:0:3:0:1:0:16:3e:11:22:33,v6a,[fd00:1::5]\nv6b,[fd00:1::6]\n');
  assert.equal(dnsmasqLeaseTime({ expiry: 5n }), '5m');
  assert.equal(dnsmasqLeaseTime({ expiry: 2n, unit: 'hours' }), '2h');
});

test('dnsmasq runs when the network has an address, unless it has no DHCP and DNS is off', () => {
  assert.equal(networkNeedsDnsmasq(parseNetworkXML(`<network><name>n</name><bridge name='b'/></network>`)), false);
  assert.equal(networkNeedsDnsmasq(parseNetworkXML(`<network><name>n</name><bridge name='b'/><ip address='10.0.0.1' prefix='24'/></network>`)), true);
  assert.equal(
    networkNeedsDnsmasq(parseNetworkXML(`<network><name>n</name><bridge name='b'/><dns enable='no'/><ip address='10.0.0.1' prefix='24'/></network>`)),
    false,
  );
});

test("dnsmasq's lease file: IPv4 and IPv6 leases, MAC from a DUID-LL", () => {
  const leases = parseDnsmasqLeases(
    [
      '1700000000 52:54:00:aa:bb:cc 192.168.122.50 guest1 01:52:54:00:aa:bb:cc',
      '0 52:54:00:aa:bb:dd 192.168.122.51 * *',
      'duid 00:01:00:01:2c:00:00:00:52:54:00:00:00:01',
      '1700000500 1234 fd00::50 v6host 00:03:00:01:52:54:00:aa:bb:ee',
      '1700000600 T99 fd00::51 * 00:02:00:00:ab:11:01:02',
      '',
    ].join('\n'),
  );
  assert.deepEqual(leases, [
    { expiry: 1700000000, type: 4, mac: '52:54:00:aa:bb:cc', iaid: null, ip: '192.168.122.50', hostname: 'guest1', clientId: '01:52:54:00:aa:bb:cc' },
    { expiry: 0, type: 4, mac: '52:54:00:aa:bb:dd', iaid: null, ip: '192.168.122.51', hostname: null, clientId: null },
    { expiry: 1700000500, type: 6, mac: '52:54:00:aa:bb:ee', iaid: '1234', ip: 'fd00::50', hostname: 'v6host', clientId: '00:03:00:01:52:54:00:aa:bb:ee' },
    { expiry: 1700000600, type: 6, mac: null, iaid: '99', ip: 'fd00::51', hostname: null, clientId: '00:02:00:00:ab:11:01:02' },
  ]);
});

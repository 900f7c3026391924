// The nftables rules of a network: the script for each forward mode (libvirt's rules, in the
// order libvirt's head-inserts leave them), and the real nft loading, replacing and deleting
// the table in a test namespace.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { parseNetworkXML } from '../../../src/conf/network/index.js';
import { NetworkFirewall, firewallScript, firewallTableName, networkFirewallRules } from '../../../src/drivers/network/firewall.js';
import { enterTestNetns } from '../../helpers/netns.js';
import { skipUnless } from '../../helpers/system.js';
import { RecordingRunner, TAG } from './networkFixture.js';

const NAT = `<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'/><ip family='ipv6' address='fd00:77::1' prefix='64'/></network>`;

test('table names: tsvirt_ and the bridge name, other characters as _xx', () => {
  assert.equal(firewallTableName('virbr0'), 'tsvirt_virbr0');
  assert.equal(firewallTableName('br-lan.5'), 'tsvirt_br_2dlan_2e5');
  assert.equal(firewallTableName('a_b'), 'tsvirt_a_5fb');
});

test('a NAT network: the whole script', () => {
  const def = parseNetworkXML(NAT);
  assert.equal(
    firewallScript(def),
    `add table inet tsvirt_virbr0
delete table inet tsvirt_virbr0
table inet tsvirt_virbr0 {
  comment "tsvirt network default"
  chain forward {
    type filter hook forward priority filter; policy accept;
    counter jump guest_cross
    counter jump guest_input
    counter jump guest_output
  }
  chain guest_output {
    ip6 saddr fd00:77::/64 iifname "virbr0" counter accept
    ip saddr 192.168.122.0/24 iifname "virbr0" counter accept
    meta nfproto ipv4 iifname "virbr0" counter reject
    meta nfproto ipv6 iifname "virbr0" counter reject
  }
  chain guest_input {
    ip6 daddr fd00:77::/64 oifname "virbr0" counter accept
    oifname "virbr0" ip daddr 192.168.122.0/24 ct state related,established counter accept
    meta nfproto ipv4 oifname "virbr0" counter reject
    meta nfproto ipv6 oifname "virbr0" counter reject
  }
  chain guest_cross {
    meta nfproto ipv4 iifname "virbr0" oifname "virbr0" counter accept
    meta nfproto ipv6 iifname "virbr0" oifname "virbr0" counter accept
  }
  chain guest_nat {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 counter return
    ip saddr 192.168.122.0/24 ip daddr 255.255.255.255 counter return
    meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
    meta l4proto udp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
    ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade
  }
}
`,
  );
  // libvirt fills in the port range of the live definition.
  assert.deepEqual(def.forward?.nat?.port, { start: 1024, end: 65535 });
});

test('nat with a forward device, a public address range, ports and IPv6 masquerading', () => {
  const def = parseNetworkXML(`<network><name>n</name><bridge name='br0'/>
    <forward mode='nat' dev='eth0'><nat ipv6='yes'><address start='203.0.113.10' end='203.0.113.20'/><port start='2000' end='3000'/></nat></forward>
    <ip address='10.0.0.1' prefix='24'/><ip family='ipv6' address='fd00:1::1' prefix='64'/></network>`);
  const r = networkFirewallRules(def);
  assert.deepEqual(r.output.slice(0, 2), [
    'ip6 saddr fd00:1::/64 iifname "br0" oifname "eth0" counter accept',
    'ip saddr 10.0.0.0/24 iifname "br0" oifname "eth0" counter accept',
  ]);
  assert.deepEqual(r.input.slice(0, 2), [
    'iifname "eth0" oifname "br0" ip6 daddr fd00:1::/64 ct state related,established counter accept',
    'iifname "eth0" oifname "br0" ip daddr 10.0.0.0/24 ct state related,established counter accept',
  ]);
  assert.deepEqual(r.nat, [
    'oifname "eth0" ip6 saddr fd00:1::/64 ip6 daddr ff02::/16 counter return',
    'meta l4proto tcp ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64 oifname "eth0" counter masquerade to :2000-3000',
    'meta l4proto udp ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64 oifname "eth0" counter masquerade to :2000-3000',
    'ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64 oifname "eth0" counter masquerade',
    'oifname "eth0" ip saddr 10.0.0.0/24 ip daddr 224.0.0.0/24 counter return',
    'oifname "eth0" ip saddr 10.0.0.0/24 ip daddr 255.255.255.255 counter return',
    'meta l4proto tcp ip saddr 10.0.0.0/24 ip daddr != 10.0.0.0/24 oifname "eth0" counter snat ip to 203.0.113.10-203.0.113.20:2000-3000',
    'meta l4proto udp ip saddr 10.0.0.0/24 ip daddr != 10.0.0.0/24 oifname "eth0" counter snat ip to 203.0.113.10-203.0.113.20:2000-3000',
    'ip saddr 10.0.0.0/24 ip daddr != 10.0.0.0/24 oifname "eth0" counter snat ip to 203.0.113.10-203.0.113.20',
  ]);
});

test('isolated: only rejects and guest-to-guest; route: both directions by subnet, no nat chain', () => {
  const iso = networkFirewallRules(parseNetworkXML(`<network><name>i</name><bridge name='br1'/><ip address='10.1.0.1' prefix='24'/></network>`));
  assert.deepEqual(iso.output, ['meta nfproto ipv4 iifname "br1" counter reject']);
  assert.deepEqual(iso.input, ['meta nfproto ipv4 oifname "br1" counter reject']);
  assert.deepEqual(iso.cross, ['meta nfproto ipv4 iifname "br1" oifname "br1" counter accept']);
  assert.equal(iso.nat, undefined);
  const route = networkFirewallRules(
    parseNetworkXML(`<network ipv6='yes'><name>r</name><forward mode='route' dev='eth1'/><bridge name='br2'/><ip address='10.2.0.1' prefix='16'/></network>`),
  );
  assert.deepEqual(route.output[0], 'ip saddr 10.2.0.0/16 iifname "br2" oifname "eth1" counter accept');
  assert.deepEqual(route.input[0], 'ip daddr 10.2.0.0/16 iifname "eth1" oifname "br2" counter accept');
  assert.equal(route.output.length, 3, "ipv6='yes' adds the IPv6 catch-all");
  assert.equal(route.nat, undefined);
});

test('a bad NAT port range is refused with libvirt\'s message', () => {
  const def = parseNetworkXML(`<network><name>n</name><forward mode='nat'><nat><port start='2000' end='2000'/></nat></forward><bridge name='b'/><ip address='10.0.0.1' prefix='24'/></network>`);
  assert.throws(() => networkFirewallRules(def), { code: 1, domain: 19, message: "internal error: Invalid port range '2000-2000'." });
});

describe('nft', { skip: skipUnless({ root: true, commands: ['nft', 'ip'] }) }, () => {
  test('loads, replaces and deletes exactly the network table', async () => {
    const ns = enterTestNetns(`${TAG}-nft`);
    try {
      // Somebody else's table in the same namespace stays untouched.
      execFileSync('nft', ['add', 'table', 'inet', 'other']);
      const runner = new RecordingRunner();
      const fw = new NetworkFirewall({ runner });
      const def = parseNetworkXML(NAT);
      assert.equal(await fw.exists('virbr0'), false);
      assert.equal(await fw.apply(def), 'tsvirt_virbr0');
      const first = execFileSync('nft', ['list', 'table', 'inet', 'tsvirt_virbr0']).toString();
      assert.match(first, /comment "tsvirt network default"/);
      assert.equal((first.match(/masquerade/g) ?? []).length, 3);
      // Applying again replaces the table instead of adding a second copy of every rule.
      await fw.apply(def);
      assert.equal(execFileSync('nft', ['list', 'table', 'inet', 'tsvirt_virbr0']).toString(), first);
      assert.equal(await fw.exists('virbr0'), true);
      await fw.remove('virbr0');
      await fw.remove('virbr0');
      assert.equal(await fw.exists('virbr0'), false);
      assert.match(execFileSync('nft', ['list', 'tables']).toString(), /^table inet other$/m);
      assert.deepEqual(runner.lines().slice(0, 2), ['nft list table inet tsvirt_virbr0', 'nft -f -']);
    } finally {
      ns.leave();
    }
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { MacvlanMode } from '../../src/host/ifla.js';
import { createVeth, deleteLink, getLink } from '../../src/host/link.js';
import { createMacvtap, deleteMacvtap, openMacvtapQueues } from '../../src/host/macvtap.js';
import { netHost, type NetHost } from '../../src/host/netHost.js';
import { SysfsRoot } from '../../src/host/sysfs.js';
import { IFF_MULTI_QUEUE, IFF_VNET_HDR, tunGetIff } from '../../src/host/syscalls.js';
import { openUnmanagedTap } from '../../src/host/tap.js';
import { enterTestNetns, type TestNetns } from '../helpers/netns.js';
import { mountNetnsSysfs, type NetnsSysfs } from '../helpers/netnsSysfs.js';
import { skipUnless } from '../helpers/system.js';

describe('macvtap and macvlan on a veth (real kernel, test netns)', { skip: skipUnless({ root: true, commands: ['ip', 'mount'] }) }, () => {
  let ns: TestNetns;
  let sys: NetnsSysfs;
  let host: NetHost;
  before(async () => {
    ns = enterTestNetns('host-netdev-mvt');
    sys = mountNetnsSysfs('host-netdev');
    host = netHost({ sysfs: new SysfsRoot(sys.root) });
    await createVeth(host.netlink, 'hnlow0', 'hnlow1');
  });
  after(() => {
    host?.netlink.close();
    sys?.unmount();
    ns?.leave();
  });

  for (const mode of ['vepa', 'bridge', 'private', 'passthrough'] as const) {
    test(`macvtap mode ${mode}: created down with the guest MAC on its lower device`, async () => {
      const m = await createMacvtap(host, { linkdev: 'hnlow0', mode, mac: '52:54:00:11:22:33' });
      try {
        assert.match(m.name, /^macvtap\d+$/);
        const l = await getLink(host.netlink, m.name);
        const lower = await getLink(host.netlink, 'hnlow0');
        assert.equal(l?.kind, 'macvtap');
        // passthrough shares the lower device's MAC (which is why that device gets the guest MAC first)
        assert.equal(l?.mac, mode === 'passthrough' ? lower?.mac : '52:54:00:11:22:33');
        assert.equal(l?.up, false);
        assert.equal(l?.lowerIndex, lower?.index);
        assert.deepEqual(l?.linkinfo && 'macvlan' in l.linkinfo ? l.linkinfo.macvlan?.mode : undefined, MacvlanMode[mode]);
        assert.match(execFileSync('ip', ['-d', 'link', 'show', m.name]).toString(), new RegExp(`macvtap mode ${mode === 'passthrough' ? 'passthru' : mode}`));
      } finally {
        await deleteMacvtap(host, m.name);
      }
      assert.equal(await getLink(host.netlink, m.name), null);
    });
  }

  test('macvtap queues: /dev/tapN opened per queue with vnet_hdr and multi_queue', async () => {
    const m = await createMacvtap(host, { name: 'hnmvt0', linkdev: 'hnlow0', mode: 'bridge', mac: '52:54:00:11:22:34' });
    try {
      const fds = await openMacvtapQueues(host, m.name, m.ifindex, 2, true);
      assert.equal(fds.length, 2);
      for (const fd of fds) {
        const r = tunGetIff(fd);
        assert.ok(r.ok);
        assert.equal(r.name, 'hnmvt0');
        assert.equal(r.flags & (IFF_VNET_HDR | IFF_MULTI_QUEUE), IFF_VNET_HDR | IFF_MULTI_QUEUE);
      }
      for (const fd of fds) closeSync(fd);
      const one = await openMacvtapQueues(host, m.name, m.ifindex, 1, false);
      const r = tunGetIff(one[0]!);
      assert.ok(r.ok);
      assert.equal(r.flags & (IFF_VNET_HDR | IFF_MULTI_QUEUE), 0);
      closeSync(one[0]!);
      // no stray private device nodes left behind
      assert.deepEqual(
        execFileSync('ls', ['-a', '/dev']).toString().split('\n').filter((n) => n.startsWith('.tsvirt-tap')),
        [],
      );
    } finally {
      await deleteMacvtap(host, m.name);
    }
  });

  test('a given macvtap name that exists is refused; macvlan%d for a device without tap', async () => {
    const m = await createMacvtap(host, { name: 'hnmvt1', linkdev: 'hnlow0', mode: 'vepa', mac: '52:54:00:11:22:35' });
    await assert.rejects(
      createMacvtap(host, { name: 'hnmvt1', linkdev: 'hnlow0', mode: 'vepa', mac: '52:54:00:11:22:36' }),
      /The hnmvt1 interface already exists/,
    );
    const v = await createMacvtap(host, { linkdev: 'hnlow0', mode: 'bridge', mac: '52:54:00:11:22:37', tap: false });
    assert.match(v.name, /^macvlan\d+$/);
    assert.equal((await getLink(host.netlink, v.name))?.kind, 'macvlan');
    await deleteMacvtap(host, v.name);
    await deleteMacvtap(host, m.name);
    await assert.rejects(createMacvtap(host, { linkdev: 'nosuchlow', mode: 'vepa', mac: '52:54:00:11:22:38' }), /Unable to create macvtap device on 'nosuchlow': No such device/);
  });

  test('macvtap names skip numbers in use', async () => {
    const own = netHost({ netlink: host.netlink, sysfs: host.sysfs });
    const a = await createMacvtap(own, { name: 'macvtap0', linkdev: 'hnlow0', mode: 'bridge', mac: '52:54:00:11:22:40' });
    const b = await createMacvtap(own, { linkdev: 'hnlow0', mode: 'bridge', mac: '52:54:00:11:22:41' });
    assert.equal(b.name, 'macvtap1');
    await deleteMacvtap(own, a.name);
    await deleteMacvtap(own, b.name);
  });

  test('unmanaged target on an admin-made macvtap: opened through /dev/tapN, left in place', async () => {
    execFileSync('ip', ['link', 'add', 'link', 'hnlow0', 'name', 'mymvt0', 'type', 'macvtap', 'mode', 'bridge']);
    try {
      const before = await getLink(host.netlink, 'mymvt0');
      const dev = await openUnmanagedTap(host, 'mymvt0', { vnetHdr: true });
      assert.equal(dev.type, 'macvtap');
      assert.equal(dev.fds.length, 1);
      const r = tunGetIff(dev.fds[0]!);
      assert.ok(r.ok);
      assert.equal(r.name, 'mymvt0');
      for (const fd of dev.fds) closeSync(fd);
      const afterward = await getLink(host.netlink, 'mymvt0');
      assert.equal(afterward?.mac, before?.mac);
      assert.equal(afterward?.flags, before?.flags);
    } finally {
      await deleteLink(host.netlink, 'mymvt0');
    }
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { VirtError } from '../../src/errors/index.js';
import {
  createBridge,
  createDummy,
  createVeth,
  deleteLink,
  getLink,
  listLinks,
  renameLink,
  setLinkMac,
  setLinkMaster,
  setLinkMtu,
  setLinkUp,
} from '../../src/host/link.js';
import { RtNetlink } from '../../src/host/netlink.js';
import { enterTestNetns, type TestNetns } from '../helpers/netns.js';
import { skipUnless } from '../helpers/system.js';

// Against the real kernel, inside a network namespace of this test process.
describe('links over rtnetlink (real kernel, test netns)', { skip: skipUnless({ root: true, commands: ['ip'] }) }, () => {
  let ns: TestNetns;
  let nl: RtNetlink;
  before(() => {
    ns = enterTestNetns('host-netdev-link');
    nl = new RtNetlink();
  });
  after(() => {
    nl?.close();
    ns?.leave();
  });

  const ipShow = (name: string) => execFileSync('ip', ['-d', '-o', 'link', 'show', 'dev', name]).toString();

  test('bridge and veth: create, MAC, MTU, up, master, rename, delete', async () => {
    await createBridge(nl, 'hnbr0');
    await createVeth(nl, 'hnv0', 'hnv1');
    const br = await getLink(nl, 'hnbr0');
    assert.equal(br?.kind, 'bridge');
    assert.equal((await getLink(nl, 'hnv0'))?.kind, 'veth');

    await setLinkMac(nl, 'hnv0', '52:54:00:0a:0b:0c');
    await setLinkMtu(nl, 'hnv0', 1400);
    await setLinkUp(nl, 'hnv0', true);
    await setLinkMaster(nl, 'hnv0', 'hnbr0');
    const v = await getLink(nl, 'hnv0');
    assert.equal(v?.mac, '52:54:00:0a:0b:0c');
    assert.equal(v?.mtu, 1400);
    assert.equal(v?.up, true);
    assert.equal(v?.master, br?.index);
    // what ip(8) sees agrees
    assert.match(ipShow('hnv0'), /link\/ether 52:54:00:0a:0b:0c/);
    assert.match(ipShow('hnv0'), /master hnbr0/);

    await setLinkMaster(nl, 'hnv0', null);
    await setLinkUp(nl, 'hnv0', false);
    const v2 = await getLink(nl, 'hnv0');
    assert.equal(v2?.master, null);
    assert.equal(v2?.up, false);

    await renameLink(nl, 'hnv0', 'hnv0new');
    assert.equal(await getLink(nl, 'hnv0'), null);
    assert.equal((await getLink(nl, 'hnv0new'))?.index, v?.index);

    const names = (await listLinks(nl)).map((l) => l.name).sort();
    assert.deepEqual(names, ['hnbr0', 'hnv0new', 'hnv1', 'lo']);

    await deleteLink(nl, 'hnv0new');
    await deleteLink(nl, 'hnbr0');
    assert.equal(await getLink(nl, 'hnv1'), null, 'deleting one end of a veth removes the peer');
    await deleteLink(nl, 'hnbr0', { missingOk: true });
  });

  test('kernel errors name the system error, the device and the operation', async () => {
    await assert.rejects(setLinkMtu(nl, 'nosuchdev0', 1400), (e: unknown) => {
      assert.ok(e instanceof VirtError);
      assert.equal(e.codeName, 'SYSTEM_ERROR');
      assert.equal(e.message, "Cannot set interface MTU to 1400 on 'nosuchdev0': No such device");
      return true;
    });
    await createBridge(nl, 'hnbr1');
    await assert.rejects(createBridge(nl, 'hnbr1'), /Unable to create bridge device 'hnbr1': File exists/);
    await assert.rejects(setLinkMtu(nl, 'hnbr1', 10), /Cannot set interface MTU to 10 on 'hnbr1': Invalid argument/);
    // this kernel has no dummy driver: a clear error rather than a silent success
    const dummy = await createDummy(nl, 'hndummy0').then(
      () => null,
      (e: unknown) => e,
    );
    if (dummy) assert.match(String((dummy as Error).message), /Unable to create dummy device 'hndummy0': /);
    else await deleteLink(nl, 'hndummy0');
    await assert.rejects(deleteLink(nl, 'nosuchdev0'), /Unable to delete network device 'nosuchdev0': No such device/);
    await assert.rejects(getLink(nl, 'a-name-far-too-long'), /Network interface name 'a-name-far-too-long' is too long/);
    await deleteLink(nl, 'hnbr1');
  });

  test('one socket serves many requests, in parallel too', async () => {
    await createBridge(nl, 'hnbr2');
    const got = await Promise.all(Array.from({ length: 20 }, () => getLink(nl, 'hnbr2')));
    assert.equal(new Set(got.map((l) => l?.index)).size, 1);
    await deleteLink(nl, 'hnbr2');
  });
});

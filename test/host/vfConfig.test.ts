import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VirtError } from '../../src/errors/index.js';
import { createVeth, deleteLink } from '../../src/host/link.js';
import { RtNetlink } from '../../src/host/netlink.js';
import { getVfConfig, setVfConfig, setVfMac, setVfVlan } from '../../src/host/vfConfig.js';
import { enterTestNetns, type TestNetns } from '../helpers/netns.js';
import { SimulatedKernelNetlink } from '../helpers/simulatedNetlink.js';
import { skipUnless } from '../helpers/system.js';

const EPERM = 1;
const EAGAIN = 11;
const ENODEV = 19;
const EINVAL = 22;
const ERANGE = 34;

/** A kernel with one PF `name` holding `vfs` VFs (admin MAC zero, VLAN 0). */
function simulatedPf(name = 'pf', vfs = 10): { sim: SimulatedKernelNetlink; nl: RtNetlink } {
  const sim = new SimulatedKernelNetlink();
  sim.addLink({ name, mac: '90:e2:ba:00:00:01', up: true, vfs: Array.from({ length: vfs }, () => ({ mac: '00:00:00:00:00:00', vlan: 0 })) });
  return { sim, nl: new RtNetlink(() => sim) };
}

/** Datagram bytes with the per-socket fields (seq, port) zeroed and NLA_F_NESTED masked. */
function canonical(bytes: Buffer): string {
  const b = Buffer.from(bytes);
  b.fill(0, 8, 16);
  // clear NLA_F_NESTED in IFLA_VFINFO_LIST(22) > IFLA_VF_INFO(1) > leaves
  const walk = (start: number, end: number, depth: number) => {
    for (let o = start; o + 4 <= end; ) {
      const len = b.readUInt16LE(o);
      if (len < 4) break;
      const type = b.readUInt16LE(o + 2) & 0x7fff;
      b.writeUInt16LE(type, o + 2);
      if ((depth === 0 && type === 22) || (depth === 1 && type === 1)) walk(o + 4, o + len, depth + 1);
      o += (len + 3) & ~3;
    }
  };
  walk(32, b.length, 0);
  return b.toString('hex');
}

function isSystemError(errno: number, message: string) {
  return (e: VirtError | null) => {
    assert.ok(e instanceof VirtError);
    assert.equal(e.codeName, 'SYSTEM_ERROR');
    assert.equal(e.int1, errno);
    assert.equal(e.message, message);
  };
}

describe('VF MAC and VLAN through the PF (simulated PF at the netlink seam)', () => {
  test('netdev case 1: no VLAN requested: MAC then VLAN 0, EPERM on the VLAN is success', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfVlan', EPERM);
    const r = await setVfConfig(nl, 'pf', 3, '52:54:00:aa:bb:cc', null, { allowRetry: false });
    assert.equal(r.rc, 0);
    assert.equal(r.error, null);
    assert.deepEqual(
      sim.requests.map((q) => [q.kind, q.type, q.ifname, q.index, q.vf, q.mac ?? q.vlan, q.qos]),
      [
        ['setVfMac', 19, 'pf', -1, 3, '52:54:00:aa:bb:cc', undefined],
        ['setVfVlan', 19, 'pf', -1, 3, 0, 0],
      ],
    );
  });

  test('netdev case 2: explicit VLAN 42 refused with EPERM is an error naming PF, VF and operation', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfVlan', EPERM);
    const r = await setVfVlan(nl, 'pf', 1, 42);
    assert.equal(r.rc, -EPERM);
    isSystemError(EPERM, 'Cannot set interface vlanid to 42 for ifname pf vf 1: Operation not permitted')(r.error);
  });

  test('netdev case 3: explicit clear (VLAN 0) refused with EPERM is fatal', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfVlan', EPERM);
    const r = await setVfVlan(nl, 'pf', 1, 0);
    assert.equal(r.rc, -EPERM);
    isSystemError(EPERM, 'Cannot set interface vlanid to 0 for ifname pf vf 1: Operation not permitted')(r.error);
  });

  test('netdev case 4: implicit clear refused with another errno (EAGAIN) is reported', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfVlan', EAGAIN);
    const r = await setVfVlan(nl, 'pf', 1, null);
    assert.equal(r.rc, -EAGAIN);
    isSystemError(EAGAIN, 'Cannot set interface vlanid to 0 for ifname pf vf 1: Resource temporarily unavailable')(r.error);
  });

  test('netdev case 5: implicit clear accepted: 0, and the same bytes as an explicit clear', async () => {
    const { sim, nl } = simulatedPf();
    const implicit = await setVfVlan(nl, 'pf', 1, null);
    const explicit = await setVfVlan(nl, 'pf', 1, 0);
    assert.deepEqual([implicit.rc, explicit.rc], [0, 0]);
    assert.equal(sim.requests.length, 2);
    assert.equal(canonical(sim.requests[0]!.bytes), canonical(sim.requests[1]!.bytes));
  });

  test('netdev case 6: explicit clear accepted: 0, VLAN 0 stored in the PF', async () => {
    const { sim, nl } = simulatedPf();
    sim.link('pf')!.vfs![1]!.vlan = 7;
    const r = await setVfVlan(nl, 'pf', 1, 0);
    assert.equal(r.rc, 0);
    assert.equal(r.error, null);
    assert.equal(sim.link('pf')!.vfs![1]!.vlan, 0);
  });

  test('netdev case 7: VLAN 4096 or -1 is -ERANGE and nothing is sent', async () => {
    const { sim, nl } = simulatedPf('x');
    for (const vlan of [4096, -1]) {
      const r = await setVfVlan(nl, 'x', 1, vlan);
      assert.equal(r.rc, -ERANGE);
      assert.ok(r.error);
    }
    assert.equal(sim.requests.length, 0);
  });

  test('netdev case 8: VLAN 4095 is accepted', async () => {
    const { sim, nl } = simulatedPf();
    const r = await setVfVlan(nl, 'pf', 1, 4095);
    assert.equal(r.rc, 0);
    assert.equal(sim.requests[0]!.vlan, 4095);
  });

  test('netdev case 9: all-zero MAC refused with EINVAL while retry is allowed: silent, retry stays allowed', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfMac', EINVAL);
    const retry = { allowRetry: true };
    const r = await setVfMac(nl, 'pf', 5, '00:00:00:00:00:00', retry);
    assert.equal(r.rc, -EINVAL);
    assert.equal(r.error, null);
    assert.equal(retry.allowRetry, true);
  });

  test('netdev case 10: a non-zero MAC refused with EINVAL is reported and retry is off', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfMac', EINVAL);
    const retry = { allowRetry: true };
    const r = await setVfMac(nl, 'pf', 8, '00:00:00:07:07:07', retry);
    assert.equal(r.rc, -EINVAL);
    isSystemError(EINVAL, 'Cannot set interface MAC to 00:00:00:07:07:07 for ifname pf vf 8: Invalid argument')(r.error);
    assert.equal(retry.allowRetry, false);
  });

  test('netdev case 11: all-zero MAC refused with EPERM (retry not allowed) is -EPERM', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfMac', EPERM);
    const r = await setVfMac(nl, 'pf', 5, '00:00:00:00:00:00', { allowRetry: false });
    assert.equal(r.rc, -EPERM);
    isSystemError(EPERM, 'Cannot set interface MAC to 00:00:00:00:00:00 for ifname pf vf 5: Operation not permitted')(r.error);
  });

  test('netdev case 12: no MAC is -EINVAL and nothing is sent', async () => {
    const { sim, nl } = simulatedPf();
    const r = await setVfMac(nl, 'pf', 1, null, { allowRetry: true });
    assert.equal(r.rc, -EINVAL);
    assert.equal(sim.requests.length, 0);
  });

  test('netdev case 13: a MAC failure (ENODEV) returns at once; the VLAN request is never sent', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfMac', ENODEV).answer('setVfVlan', EPERM);
    const r = await setVfConfig(nl, 'pf', 2, '52:54:00:00:00:02', 42, { allowRetry: false });
    assert.equal(r.rc, -ENODEV);
    assert.match(r.error!.message, /Cannot set interface MAC to 52:54:00:00:00:02 for ifname pf vf 2: No such device/);
    assert.deepEqual(
      sim.requests.map((q) => q.kind),
      ['setVfMac'],
    );
  });

  test('netdev case 14: golden bytes of the VF_MAC request (PF enp2s0f0, vf 2, 00:00:00:07:07:07)', async () => {
    const { sim, nl } = simulatedPf('enp2s0f0');
    await setVfMac(nl, 'enp2s0f0', 2, '00:00:00:07:07:07', { allowRetry: false });
    const golden =
      // nlmsghdr: len 96, RTM_SETLINK, REQUEST|ACK, seq/port (zeroed for comparison)
      '60000000' + '1300' + '0500' + '00000000' + '00000000' +
      // ifinfomsg: AF_UNSPEC, pad, type 0, index -1, flags 0, change 0
      '00' + '00' + '0000' + 'ffffffff' + '00000000' + '00000000' +
      // IFLA_IFNAME "enp2s0f0\0", len 13, padded to 16
      '0d00' + '0300' + Buffer.from('enp2s0f0\0').toString('hex') + '000000' +
      // IFLA_VFINFO_LIST len 48 > IFLA_VF_INFO len 44 > IFLA_VF_MAC len 40
      '3000' + '1600' + '2c00' + '0100' + '2800' + '0100' +
      // struct ifla_vf_mac: u32 vf = 2, mac[32] = 6 bytes + 26 zeros
      '02000000' + '000000070707' + '00'.repeat(26);
    const sent = sim.requests[0]!.bytes;
    assert.equal(sent.length, 96);
    assert.equal(sent.readUInt16LE(4), 19);
    assert.ok(sent.readUInt16LE(6) & 1, 'NLM_F_REQUEST');
    assert.equal(canonical(sent), golden);
  });

  test('golden bytes of the VF_VLAN request: 72 bytes, vf, vlan, qos 0', async () => {
    const { sim, nl } = simulatedPf('enp2s0f0');
    await setVfVlan(nl, 'enp2s0f0', 3, 42);
    const golden =
      '48000000' + '1300' + '0500' + '00000000' + '00000000' +
      '00' + '00' + '0000' + 'ffffffff' + '00000000' + '00000000' +
      '0d00' + '0300' + Buffer.from('enp2s0f0\0').toString('hex') + '000000' +
      // IFLA_VFINFO_LIST len 24 > IFLA_VF_INFO len 20 > IFLA_VF_VLAN len 16
      '1800' + '1600' + '1400' + '0100' + '1000' + '0200' +
      '03000000' + '2a000000' + '00000000';
    assert.equal(canonical(sim.requests[0]!.bytes), golden);
  });

  test('requests on one socket carry increasing sequence numbers', async () => {
    const { sim, nl } = simulatedPf();
    await setVfConfig(nl, 'pf', 1, '52:54:00:00:00:01', null, { allowRetry: false });
    await setVfVlan(nl, 'pf', 1, 5);
    const seqs = sim.requests.map((r) => r.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, seqs.length);
  });

  test('netdev case 15: a reply of type 16 to a set request is "malformed netlink response message", never EPERM-ignored', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfVlan', 'malformed');
    await assert.rejects(setVfVlan(nl, 'pf', 1, null), (e: unknown) => {
      assert.ok(e instanceof VirtError);
      assert.equal(e.codeName, 'INTERNAL_ERROR');
      assert.equal(e.message, 'internal error: malformed netlink response message');
      return true;
    });
    // the same for the whole config: the MAC went through, the VLAN failure is not swallowed
    sim.answer('setVfVlan', 'malformed');
    await assert.rejects(setVfConfig(nl, 'pf', 1, '52:54:00:00:00:01', null, { allowRetry: false }), /malformed netlink response message/);
  });

  test('transport failures while implicitly clearing a VLAN are errors, not EPERM', async () => {
    const { sim, nl } = simulatedPf();
    sim.answer('setVfVlan', 'sendError', { times: 1 });
    await assert.rejects(setVfVlan(nl, 'pf', 1, null), (e: unknown) => e instanceof VirtError && e.codeName === 'SYSTEM_ERROR' && /No buffer space available/.test(e.message));
    sim.answer('setVfVlan', 'silence', { times: 1 });
    await assert.rejects(setVfVlan(nl, 'pf', 1, null), /no netlink reply within 2000 ms: Cannot set interface vlanid to 0 for ifname pf vf 1: Connection timed out/);
  });

  test('reading a VF\'s admin MAC and VLAN from the PF (RTEXT_FILTER_VF)', async () => {
    const { sim, nl } = simulatedPf('enp2s0f0', 4);
    sim.link('enp2s0f0')!.vfs![2] = { mac: '52:54:00:12:34:56', vlan: 42 };
    assert.deepEqual(await getVfConfig(nl, 'enp2s0f0', 2), { adminMac: '52:54:00:12:34:56', vlanTag: 42 });
    const req = sim.requests[0]!;
    assert.equal(req.type, 18);
    assert.deepEqual(req.message.attrs.extMask, { vf: true });
    assert.equal(req.ifname, 'enp2s0f0');
    await assert.rejects(getVfConfig(nl, 'enp2s0f0', 7), /couldn't find IFLA_VF_INFO for VF 7 in netlink response/);
    sim.addLink({ name: 'eth9', mac: '52:54:00:00:00:09' });
    await assert.rejects(getVfConfig(nl, 'eth9', 0), /missing IFLA_VF_INFO in netlink response/);
  });
});

describe('VF requests against the real kernel: well-formed, refused by a device without VFs', { skip: skipUnless({ root: true, commands: ['ip'] }) }, () => {
  let ns: TestNetns;
  let nl: RtNetlink;
  before(async () => {
    ns = enterTestNetns('host-netdev-vf');
    nl = new RtNetlink();
    await createVeth(nl, 'hnpf0', 'hnpf1');
  });
  after(async () => {
    await deleteLink(nl, 'hnpf0', { missingOk: true });
    nl?.close();
    ns?.leave();
  });

  test('the kernel parses our VF_MAC/VF_VLAN requests (a malformed one would be EINVAL) and answers EOPNOTSUPP', async () => {
    const mac = await setVfMac(nl, 'hnpf0', 0, '52:54:00:00:00:01', { allowRetry: false });
    assert.equal(mac.rc, -95);
    const vlan = await setVfVlan(nl, 'hnpf0', 0, 10);
    assert.equal(vlan.rc, -95);
    assert.match(vlan.error!.message, /Cannot set interface vlanid to 10 for ifname hnpf0 vf 0: Operation not supported/);
    // the implicit clear tolerates only EPERM
    assert.equal((await setVfVlan(nl, 'hnpf0', 0, null)).rc, -95);
    await assert.rejects(getVfConfig(nl, 'hnpf0', 0), /missing IFLA_VF_INFO in netlink response/);
  });
});

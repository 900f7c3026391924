// IP forwarding bookkeeping against the real kernel's sysctls, in a network namespace of the test
// process (forwarding is per namespace): switched on for the networks that need it, off again
// after the last, and the record file left as it is when loading changes nothing.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { IpForwarding } from '../../../src/drivers/network/ipForwarding.js';
import { SYSCTL_ROOT, readSysctl } from '../../../src/host/sysctl.js';
import { enterTestNetns } from '../../helpers/netns.js';
import { skipUnless, tempDir } from '../../helpers/system.js';

test('forwarding follows the networks that need it; an unchanged record is not rewritten', { skip: skipUnless({ root: true, commands: ['ip'] }) }, async () => {
  const ns = enterTestNetns('r2drv-fwd');
  const tmp = tempDir(`tsvirt-r2-drivers-fwd-${process.pid}-`);
  try {
    const file = join(tmp.path, 'ip-forwarding.json');
    const fwd = new IpForwarding(file, SYSCTL_ROOT);
    await fwd.load([]);
    assert.equal(readSysctl('net/ipv4/ip_forward'), '0');
    await fwd.enable('n1', true, false);
    await fwd.enable('n2', true, true);
    assert.equal(readSysctl('net/ipv4/ip_forward'), '1');
    assert.equal(readSysctl('net/ipv6/conf/all/forwarding'), '1');
    assert.deepEqual([...fwd.switchedOn].sort(), ['ipv4', 'ipv6']);

    // A restarted driver that finds both networks running changes nothing, on the host or on disk.
    const written = statSync(file, { bigint: true }).mtimeNs;
    const text = readFileSync(file, 'utf8');
    const again = new IpForwarding(file, SYSCTL_ROOT);
    await again.load(['n1', 'n2']);
    assert.equal(statSync(file, { bigint: true }).mtimeNs, written);
    assert.equal(readFileSync(file, 'utf8'), text);

    await again.release('n2');
    assert.equal(readSysctl('net/ipv6/conf/all/forwarding'), '0');
    assert.equal(readSysctl('net/ipv4/ip_forward'), '1');
    // n1 is gone after a restart: its forwarding goes off and the record says so.
    const third = new IpForwarding(file, SYSCTL_ROOT);
    await third.load([]);
    assert.equal(readSysctl('net/ipv4/ip_forward'), '0');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { switchedOn: [], users: {} });
  } finally {
    tmp.remove();
    ns.leave();
  }
});

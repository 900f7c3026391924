// vhost-net beside real libvirt 9.0 (qemu:///embed in python-libvirt, the same network
// namespace): KVM guests' virtio NICs on taps get /dev/vhost-net descriptors (vhost=on,
// vhostfd=) when it opens, go without when it does not unless <driver name='vhost'/> demands it
// (libvirt's error), never with <driver name='qemu'/> or under TCG; <backend vhost='PATH'/>
// names another device. The guests start paused: this machine runs no KVM guest to the end,
// and its kernel has no vhost-net (so the "usable" case runs only where it has: there the
// netdev argv must still equal libvirt's). With <backend vhost='/dev/null'/> the descriptors
// reach QEMU, which refuses them: the argv and the failure are compared.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, VirtError } from '../../../src/api/index.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { hasKvm, skipUnless, tempDir } from '../../helpers/system.js';
import { destroyAll, openEmbed } from './driverHarness.js';

const skip = skipUnless({ root: true, kvm: true, commands: ['qemu-system-x86_64', 'virsh', 'ip'] });

const PY = `
import json, sys, libvirt
libvirt.virEventRegisterDefaultImpl()
root, path = sys.argv[1], sys.argv[2]
conn = libvirt.open('qemu:///embed?root=' + root)
d = conn.defineXML(open(path).read())
out = {}
try:
    d.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    d.destroy()
except libvirt.libvirtError as e:
    out['error'] = [e.get_error_code(), e.get_error_message()]
d.undefine()
sys.stdout.write(json.dumps(out))
`;

function domainXML(name: string, type: 'kvm' | 'qemu', nic: string): string {
  return `<domain type='${type}'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    ${nic}
    <serial type='pty'/>
  </devices>
</domain>
`;
}

const CASES: [string, 'kvm' | 'qemu', string][] = [
  ['vhdefault', 'kvm', "<interface type='ethernet'><model type='virtio'/></interface>"],
  ['vhdemand', 'kvm', "<interface type='ethernet'><model type='virtio'/><driver name='vhost'/></interface>"],
  ['vhoff', 'kvm', "<interface type='ethernet'><model type='virtio'/><driver name='qemu'/></interface>"],
  ['vhtcg', 'qemu', "<interface type='ethernet'><model type='virtio'/><driver name='vhost'/></interface>"],
  ['vhnull', 'kvm', "<interface type='ethernet'><model type='virtio'/><backend vhost='/dev/null'/></interface>"],
  ['vhnullmq', 'kvm', "<interface type='ethernet'><model type='virtio'/><driver name='vhost' queues='2'/><backend vhost='/dev/null'/></interface>"],
];

/** The -netdev of the last start in a QEMU log, with descriptor numbers blanked. */
function netdevArg(log: string): string | undefined {
  const all = [...log.matchAll(/-netdev '([^']*)'/g)];
  return all[all.length - 1]?.[1]?.replace(/"(fds?|vhostfds?)":"[\d:]+"/g, (_m, k: string) => `"${k}":"N"`);
}

function taps(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show']).toString()) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n.startsWith('vnet'));
}

describe('vhost-net for virtio NICs on taps, beside libvirt 9.0', { skip: skip || (!hasKvm() && 'no KVM') }, () => {
  const tmp = tempDir(`tsvirt-qemu-polish-vhost-${process.pid}-`);
  const lvRoot = join(tmp.path, 'lv');
  const tsRoot = join(tmp.path, 'ts');
  let ns: TestNetns | undefined;
  let conn: Connection;

  before(async () => {
    ns = enterTestNetns('qpvhost');
    mkdirSync(join(lvRoot, 'etc'), { recursive: true });
    writeFileSync(join(lvRoot, 'etc', 'qemu.conf'), 'stdio_handler = "file"\nuser = "root"\ngroup = "root"\n');
    conn = await openEmbed(tsRoot);
  });
  after(async () => {
    await destroyAll(conn);
    await conn?.close();
    ns?.leave();
    tmp.remove();
  });

  for (const [name, type, nic] of CASES) {
    test(`${name}: ${nic}${type === 'qemu' ? ' (TCG)' : ''}`, async () => {
      const xml = domainXML(name, type, nic);
      const file = join(tmp.path, `${name}.xml`);
      writeFileSync(file, xml);
      const r = spawnSync('/usr/bin/python3', ['-c', PY, lvRoot, file], { encoding: 'utf8', timeout: 120_000 });
      assert.ok(r.stdout, `libvirt: ${r.status ?? r.signal} ${r.stderr}`);
      const lv = JSON.parse(r.stdout) as { error?: [number, string] };
      const lvLog = join(lvRoot, 'log', 'qemu', `${name}.log`);
      const lvNetdev = existsSync(lvLog) ? netdevArg(readFileSync(lvLog, 'utf8')) : undefined;

      const dom = await conn.domainDefineXML(xml);
      let error: [number, string] | undefined;
      try {
        await dom.createWithFlags(1);
        await dom.destroy();
      } catch (err) {
        assert.ok(err instanceof VirtError, String(err));
        error = [err.code, err.message];
      }
      const tsLog = join(tsRoot, 'log', 'qemu', `${name}.log`);
      const tsNetdev = existsSync(tsLog) ? netdevArg(readFileSync(tsLog, 'utf8')) : undefined;
      assert.deepEqual(tsNetdev, lvNetdev, 'the -netdev QEMU got');
      assert.equal(error?.[0], lv.error?.[0], `error code: ours ${error?.[1]}, libvirt's ${lv.error?.[1]}`);
      if (lv.error) {
        // QEMU's own words differ only in their time stamps and fd numbers; libvirt's prefix for
        // a QEMU that dies at start is one of two, whichever of its checks sees it first
        const strip = (m: string): string =>
          m
            .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z /g, '')
            .replace(/"(fds?|vhostfds?)":"[\d:]+"/g, '"$1":"N"')
            .replace(/^internal error: (qemu unexpectedly closed the monitor|process exited while connecting to monitor): /, 'internal error: QEMU DIED: ');
        assert.equal(strip(error![1]), strip(lv.error[1]));
      }
      assert.deepEqual(taps(), [], 'no tap left behind');
      await dom.undefine();

      const vhostHere = existsSync('/dev/vhost-net');
      if (name === 'vhdefault') assert.equal(/"vhost":true/.test(tsNetdev ?? ''), vhostHere);
      if (name === 'vhoff' || name === 'vhtcg') assert.doesNotMatch(tsNetdev ?? '', /vhost/);
      if (name === 'vhdemand' && !vhostHere) assert.equal(error?.[1], 'unsupported configuration: vhost-net was requested for an interface, but is unavailable');
      if (name === 'vhnull') assert.equal(tsNetdev, '{"type":"tap","fd":"N","vhost":true,"vhostfd":"N","id":"hostnet0"}');
      if (name === 'vhnullmq') assert.equal(tsNetdev, '{"type":"tap","fds":"N","vhost":true,"vhostfds":"N","id":"hostnet0"}');
    });
  }
});

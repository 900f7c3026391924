// The same networks run by real libvirt 9.0 and by tsvirt, each in a network namespace of its
// own: `net-dumpxml` of the running network (live and --inactive) and the status file must be the
// same text. libvirt's network driver only runs in a daemon (no embedded mode), and only the root
// daemon can start networks, so this runs the machine's one root libvirtd, serialised with the
// other helpers' tests on /tmp/tsvirt-libvirtd.lock, inside its own namespace.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import { canConnect } from '../../helpers/sockets.js';
import { skipUnless } from '../../helpers/system.js';
import { type Fixture, TAG, setUp } from './networkFixture.js';

const skip = skipUnless({ root: true, commands: ['libvirtd', 'virsh', 'flock', 'ip', 'nft', 'dnsmasq'] });
const SOCK = '/run/libvirt/libvirt-sock';

const CASES: { name: string; xml: string; setup?: string[][] }[] = [
  {
    name: 'tsvcmpnat',
    xml: `<network>
  <name>tsvcmpnat</name>
  <uuid>0f0e0d0c-0b0a-4908-8706-050403020100</uuid>
  <forward mode='nat'/>
  <bridge name='tsvcbr0'/>
  <mtu size='1400'/>
  <mac address='52:54:00:c0:00:01'/>
  <domain name='example.test'/>
  <dns><host ip='192.168.87.5'><hostname>foo</hostname></host></dns>
  <ip address='192.168.87.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.87.100' end='192.168.87.200'/>
      <host mac='52:54:00:11:22:33' name='h1' ip='192.168.87.10'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:87::1' prefix='64'/>
</network>`,
  },
  {
    name: 'tsvcmproute',
    xml: `<network><name>tsvcmproute</name><uuid>0f0e0d0c-0b0a-4908-8706-050403020101</uuid>
  <forward mode='route' dev='lo'/><bridge name='tsvcbr1' stp='off' delay='3'/><mac address='52:54:00:c0:00:02'/>
  <ip address='10.88.0.1' prefix='24'><dhcp><range start='10.88.0.10' end='10.88.0.20'><lease expiry='2' unit='hours'/></range></dhcp></ip></network>`,
  },
  {
    name: 'tsvcmpiso',
    xml: `<network ipv6='yes'><name>tsvcmpiso</name><uuid>0f0e0d0c-0b0a-4908-8706-050403020102</uuid>
  <bridge name='tsvcbr2'/><mac address='52:54:00:c0:00:03'/>
  <portgroup name='pg' default='yes'><bandwidth><inbound average='10'/></bandwidth></portgroup></network>`,
  },
  {
    name: 'tsvcmpopen',
    xml: `<network><name>tsvcmpopen</name><uuid>0f0e0d0c-0b0a-4908-8706-050403020103</uuid>
  <forward mode='open'/><bridge name='tsvcbr3'/><mac address='52:54:00:c0:00:04'/><ip address='10.89.0.1' prefix='24'/></network>`,
  },
  {
    name: 'tsvcmpbr',
    xml: `<network><name>tsvcmpbr</name><uuid>0f0e0d0c-0b0a-4908-8706-050403020104</uuid><forward mode='bridge'/><bridge name='tsvchost'/></network>`,
    setup: [['ip', 'link', 'add', 'tsvchost', 'type', 'bridge']],
  },
  {
    name: 'tsvcmppt',
    xml: `<network><name>tsvcmppt</name><uuid>0f0e0d0c-0b0a-4908-8706-050403020105</uuid><forward mode='passthrough'><interface dev='eth7'/><interface dev='eth8'/></forward></network>`,
  },
];

interface Observed {
  live: string;
  inactive: string;
  status: string;
}

const stripComment = (s: string) => s.replace(/^<!--[\s\S]*?-->\n\n/, '');

describe('compared with libvirt 9.0', { skip, timeout: 240000 }, () => {
  const ns = `tsv-${TAG}-lvd-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `tsvirt-${TAG}-lvd-${process.pid}-`));
  let daemon: ChildProcess | undefined;
  const libvirt = new Map<string, Observed>();
  let fx: Fixture;

  const virsh = (...args: string[]) => execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { timeout: 60000 }).toString();

  before(async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    writeFileSync(join(dir, 'libvirtd.conf'), '');
    // flock -F: the lock is held exactly as long as this libvirtd runs.
    daemon = spawn('flock', ['-F', '/tmp/tsvirt-libvirtd.lock', 'ip', 'netns', 'exec', ns, 'libvirtd', '--config', join(dir, 'libvirtd.conf')], {
      stdio: 'ignore',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
    });
    // Another helper's test may hold the lock for a while.
    const deadline = Date.now() + 180000;
    let up = false;
    while (Date.now() < deadline && daemon.exitCode === null) {
      if (existsSync(SOCK) && (await canConnect(SOCK)) && spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { timeout: 10000 }).status === 0) {
        // The socket may still be another test's daemon that is about to exit: ours runs in ns.
        const pids = spawnSync('ip', ['netns', 'pids', ns]).stdout.toString().trim();
        if (pids) {
          up = true;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(up, 'libvirtd started');
    for (const c of CASES) {
      for (const cmd of c.setup ?? []) execFileSync('ip', ['netns', 'exec', ns, ...cmd]);
      const file = join(dir, `${c.name}.xml`);
      writeFileSync(file, c.xml);
      virsh('net-define', file);
      try {
        virsh('net-start', c.name);
        libvirt.set(c.name, {
          live: virsh('net-dumpxml', c.name),
          inactive: virsh('net-dumpxml', '--inactive', c.name),
          status: stripComment(readFileSync(`/run/libvirt/network/${c.name}.xml`, 'utf8')),
        });
        virsh('net-destroy', c.name);
      } finally {
        virsh('net-undefine', c.name);
      }
    }
    fx = await setUp('cmp');
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      // SIGTERM to libvirtd itself (flock and ip netns exec have exec'd into it).
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon!.once('exit', r));
    }
    for (const c of CASES) {
      for (const f of [`/var/lib/libvirt/dnsmasq/${c.name}.conf`, `/var/lib/libvirt/dnsmasq/${c.name}.hostsfile`, `/var/lib/libvirt/dnsmasq/${c.name}.addnhosts`, `/run/libvirt/network/${c.name}.pid`]) {
        rmSync(f, { force: true });
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
    fx?.cleanup();
  });

  for (const c of CASES) {
    test(`${c.name}: net-dumpxml (live, inactive) and the status file`, async () => {
      const drv = new NetworkDriver(await fx.newState());
      for (const cmd of c.setup ?? []) execFileSync(cmd[0]!, cmd.slice(1));
      const ref = await drv.networkDefineXML(c.xml, 0);
      await drv.networkCreate(ref);
      try {
        const expected = libvirt.get(c.name)!;
        assert.equal(await drv.networkGetXMLDesc(ref, 0), expected.live);
        assert.equal(await drv.networkGetXMLDesc(ref, 1), expected.inactive);
        assert.equal(stripComment(readFileSync(join(fx.runDir, `network/${c.name}.xml`), 'utf8')), expected.status);
      } finally {
        await drv.networkDestroy(ref);
        await drv.networkUndefine(ref);
        drv.close();
      }
    });
  }
});

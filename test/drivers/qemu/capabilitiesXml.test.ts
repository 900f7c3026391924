// The QEMU driver's capabilities and domain capabilities XML: host facts from a synthetic
// /proc + /sys tree, and the whole documents compared with what real libvirt 9.0 prints on this
// machine (`virsh capabilities` / `domcapabilities` on qemu:///embed), where facts agree.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatCapabilitiesXML, formatDomainCapabilitiesXML } from '../../../src/conf/capabilities/index.js';
import { QemuCapsCache, type QemuCaps } from '../../../src/drivers/qemu/capabilities.js';
import { qemuDomainCapabilities, resolveDomainCapsQuery } from '../../../src/drivers/qemu/domainCapabilities.js';
import { capsMachines, parseCpuList, qemuCapabilities, readHostFacts } from '../../../src/drivers/qemu/hostCapabilities.js';
import { ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { fixtureCaps } from './qemuFixtures.js';

function tree(root: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
}

describe('host facts from /proc and /sys', () => {
  const tmp = tempDir(`tsvirt-qemu-cmdline-sys-${process.pid}-`);
  after(() => tmp.remove());

  test('two NUMA nodes, hyperthreads, huge pages and an L3 per node make libvirt-shaped host XML', async () => {
    const cpu = (id: number, core: number, sib: string, l3: number): Record<string, string> => ({
      [`sys/devices/system/cpu/cpu${id}/topology/physical_package_id`]: '0\n',
      [`sys/devices/system/cpu/cpu${id}/topology/die_id`]: '0\n',
      [`sys/devices/system/cpu/cpu${id}/topology/core_id`]: `${core}\n`,
      [`sys/devices/system/cpu/cpu${id}/topology/thread_siblings_list`]: `${sib}\n`,
      [`sys/devices/system/cpu/cpu${id}/cache/index0/level`]: '1\n',
      [`sys/devices/system/cpu/cpu${id}/cache/index0/type`]: 'Data\n',
      [`sys/devices/system/cpu/cpu${id}/cache/index0/size`]: '32K\n',
      [`sys/devices/system/cpu/cpu${id}/cache/index0/id`]: `${core}\n`,
      [`sys/devices/system/cpu/cpu${id}/cache/index0/shared_cpu_list`]: `${sib}\n`,
      [`sys/devices/system/cpu/cpu${id}/cache/index3/level`]: '3\n',
      [`sys/devices/system/cpu/cpu${id}/cache/index3/type`]: 'Unified\n',
      [`sys/devices/system/cpu/cpu${id}/cache/index3/size`]: '16384K\n',
      [`sys/devices/system/cpu/cpu${id}/cache/index3/id`]: `${l3}\n`,
      [`sys/devices/system/cpu/cpu${id}/cache/index3/shared_cpu_list`]: l3 === 0 ? '0-3\n' : '4-7\n',
    });
    const node = (n: number, kib: number, huge: number): Record<string, string> => ({
      [`sys/devices/system/node/node${n}/meminfo`]: `Node ${n} MemTotal:       ${kib} kB\nNode ${n} MemFree: 1 kB\n`,
      [`sys/devices/system/node/node${n}/distance`]: n === 0 ? '10 21\n' : '21 10\n',
      [`sys/devices/system/node/node${n}/cpulist`]: n === 0 ? '0-3\n' : '4-7\n',
      [`sys/devices/system/node/node${n}/hugepages/hugepages-2048kB/nr_hugepages`]: `${huge}\n`,
    });
    tree(tmp.path, {
      'proc/cpuinfo': 'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nstepping\t: 7\nmicrocode\t: 0x5003102\naddress sizes\t: 46 bits physical, 48 bits virtual\n',
      'sys/devices/system/cpu/present': '0-7\n',
      'sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages': '8\n',
      'sys/kernel/iommu_groups/0/type': 'DMA\n',
      'etc/machine-id': '0123456789abcdef0123456789abcdef\n',
      ...cpu(0, 0, '0-1', 0),
      ...cpu(1, 0, '0-1', 0),
      ...cpu(2, 1, '2-3', 0),
      ...cpu(3, 1, '2-3', 0),
      ...cpu(4, 2, '4-5', 1),
      ...cpu(5, 2, '4-5', 1),
      ...cpu(6, 3, '6-7', 1),
      ...cpu(7, 3, '6-7', 1),
      ...node(0, 4194304, 8),
      ...node(1, 4194304, 0),
    });
    const facts = await readHostFacts(tmp.path);
    const xml = formatCapabilitiesXML({ ...qemuCapabilities([], facts), guests: [] });
    const arch = facts.arch;
    assert.equal(
      xml,
      `<capabilities>

  <host>
    <uuid>01234567-89ab-cdef-0123-456789abcdef</uuid>
    <cpu>
      <arch>${arch}</arch>
      <vendor>Intel</vendor>
      <microcode version='83898626'/>
      <signature family='6' model='85' stepping='7'/>
      <topology sockets='1' dies='1' cores='2' threads='2'/>
      <maxphysaddr mode='emulate' bits='46'/>
      <pages unit='KiB' size='4'/>
      <pages unit='KiB' size='2048'/>
    </cpu>
    <power_management/>
    <iommu support='yes'/>
    <topology>
      <cells num='2'>
        <cell id='0'>
          <memory unit='KiB'>4194304</memory>
          <pages unit='KiB' size='4'>1044480</pages>
          <pages unit='KiB' size='2048'>8</pages>
          <distances>
            <sibling id='0' value='10'/>
            <sibling id='1' value='21'/>
          </distances>
          <cpus num='4'>
            <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0-1'/>
            <cpu id='1' socket_id='0' die_id='0' core_id='0' siblings='0-1'/>
            <cpu id='2' socket_id='0' die_id='0' core_id='1' siblings='2-3'/>
            <cpu id='3' socket_id='0' die_id='0' core_id='1' siblings='2-3'/>
          </cpus>
        </cell>
        <cell id='1'>
          <memory unit='KiB'>4194304</memory>
          <pages unit='KiB' size='4'>1048576</pages>
          <pages unit='KiB' size='2048'>0</pages>
          <distances>
            <sibling id='0' value='21'/>
            <sibling id='1' value='10'/>
          </distances>
          <cpus num='4'>
            <cpu id='4' socket_id='0' die_id='0' core_id='2' siblings='4-5'/>
            <cpu id='5' socket_id='0' die_id='0' core_id='2' siblings='4-5'/>
            <cpu id='6' socket_id='0' die_id='0' core_id='3' siblings='6-7'/>
            <cpu id='7' socket_id='0' die_id='0' core_id='3' siblings='6-7'/>
          </cpus>
        </cell>
      </cells>
    </topology>
    <cache>
      <bank id='0' level='3' type='both' size='16' unit='MiB' cpus='0-3'/>
      <bank id='1' level='3' type='both' size='16' unit='MiB' cpus='4-7'/>
    </cache>
    <secmodel>
      <model>none</model>
      <doi>0</doi>
    </secmodel>
  </host>

</capabilities>
`,
    );
  });

  test('cpu lists read as the kernel writes them', () => {
    assert.deepEqual(parseCpuList('0-2,5,7-8\n'), [0, 1, 2, 5, 7, 8]);
    assert.deepEqual(parseCpuList(''), []);
  });
});

describe('machines and domain capabilities from the probed caps', () => {
  test('the default machine comes first, each alias right after its machine, none left out', () => {
    const caps: QemuCaps = {
      ...fixtureCaps,
      machines: [
        { name: 'pc-q35-7.2', alias: 'q35', isDefault: false, maxCpus: 288, deprecated: false, hotpluggableCpus: true },
        { name: 'none', isDefault: false, maxCpus: 1, deprecated: false, hotpluggableCpus: false },
        { name: 'pc-i440fx-1.4', isDefault: false, maxCpus: 255, deprecated: true, hotpluggableCpus: true },
        { name: 'pc-i440fx-7.2', alias: 'pc', isDefault: true, maxCpus: 255, deprecated: false, hotpluggableCpus: true },
      ],
    };
    assert.deepEqual(capsMachines(caps), [
      { name: 'pc-i440fx-7.2', maxCpus: 255 },
      { name: 'pc', canonical: 'pc-i440fx-7.2', maxCpus: 255 },
      { name: 'pc-q35-7.2', maxCpus: 288 },
      { name: 'q35', canonical: 'pc-q35-7.2', maxCpus: 288 },
      { name: 'pc-i440fx-1.4', maxCpus: 255, deprecated: true },
    ]);
  });

  test('domcapabilities defaults: kvm when usable, the default machine; an alias is canonicalised', () => {
    const d = qemuDomainCapabilities([fixtureCaps], { machine: 'q35', virttype: 'qemu' });
    assert.equal(d.machine, 'pc-q35-7.2');
    assert.equal(d.domain, 'qemu');
    assert.equal(d.maxVcpus, 288);
    assert.equal(d.cpu.hostPassthrough, false);
    const r = resolveDomainCapsQuery([fixtureCaps], {});
    assert.equal(r.virttype, fixtureCaps.kvm.enabled ? 'kvm' : 'qemu');
    assert.equal(r.machine, 'pc-i440fx-7.2');
  });

  test('bad queries are refused with libvirt\'s errors', () => {
    const noKvm: QemuCaps = { ...fixtureCaps, kvm: { present: true, enabled: false } };
    const cases: [() => unknown, number, string][] = [
      [() => resolveDomainCapsQuery([fixtureCaps], { virttype: 'foo' }), ErrorNumber.INVALID_ARG, 'invalid argument: unknown virttype: foo'],
      // a virt type libvirt knows but QEMU cannot serve: refused once the emulator is picked
      [
        () => resolveDomainCapsQuery([{ ...fixtureCaps, kvm: { present: true, enabled: true } }], { virttype: 'xen' }),
        ErrorNumber.INVALID_ARG,
        "invalid argument: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'xen'",
      ],
      // without KVM, every accelerated type is refused for its accelerator first (xen counts as tcg)
      [
        () => resolveDomainCapsQuery([noKvm], { virttype: 'xen' }),
        ErrorNumber.INVALID_ARG,
        "invalid argument: the accel 'tcg' is not supported by '/usr/bin/qemu-system-x86_64' on this host",
      ],
      [() => resolveDomainCapsQuery([fixtureCaps], { arch: 'nope' }), ErrorNumber.INVALID_ARG, 'invalid argument: unknown architecture: nope'],
      [
        () => resolveDomainCapsQuery([fixtureCaps], { machine: 'nope' }),
        ErrorNumber.INVALID_ARG,
        "invalid argument: the machine 'nope' is not supported by emulator '/usr/bin/qemu-system-x86_64'",
      ],
      [
        () => resolveDomainCapsQuery([noKvm], { virttype: 'kvm' }),
        ErrorNumber.INVALID_ARG,
        "invalid argument: the accel 'kvm' is not supported by '/usr/bin/qemu-system-x86_64' on this host",
      ],
      [
        () => resolveDomainCapsQuery([fixtureCaps], { emulatorbin: '/usr/bin/qemu-system-x86_64', arch: 'aarch64' }),
        ErrorNumber.INVALID_ARG,
        "invalid argument: architecture from emulator 'x86_64' doesn't match given architecture 'aarch64'",
      ],
    ];
    for (const [f, code, message] of cases) {
      assert.throws(f, (e: unknown) => e instanceof VirtError && e.code === code && e.message === message);
    }
  });
});

const PY = `
import sys, libvirt
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open('qemu:///embed?root=' + sys.argv[1])
sys.stdout.write(c.getCapabilities() + '\\n=====\\n' + c.getDomainCapabilities(None, None, None, None, 0))
`;

/** Numbers that change while the machine runs (free memory) blanked. */
const volatile = (s: string): string =>
  s.replace(/(<memory unit='KiB'>)\d+/g, '$1N').replace(/(<pages unit='KiB' size='4'>)\d+/g, '$1N');

describe('compared with real libvirt on this machine', { skip: skipUnless({ commands: ['virsh', 'qemu-system-x86_64'] }) }, () => {
  const tmp = tempDir(`tsvirt-qemu-cmdline-caps-${process.pid}-`);
  let libvirtCaps = '';
  let libvirtDomCaps = '';
  let emulators: QemuCaps[] = [];
  before(async () => {
    const r = spawnSync('/usr/bin/python3', ['-c', PY, join(tmp.path, 'root')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    [libvirtCaps, libvirtDomCaps] = r.stdout.split('\n=====\n') as [string, string];
    emulators = await new QemuCapsCache(join(tmp.path, 'cache'), { workDir: tmp.path }).getAll();
  });
  after(() => tmp.remove());

  test('capabilities: the same guests, machines and domain types; the host where facts agree', async () => {
    const ours = formatCapabilitiesXML(qemuCapabilities(emulators, await readHostFacts()));
    // QEMU lists machine types in no fixed order (it differs from run to run), and libvirt keeps
    // whatever order its probe saw: compare the default pair that leads, then the sets
    const guests = (s: string): string => s.slice(s.indexOf('  <guest>')).replace(/ *<machine\b.*\n/g, '');
    assert.equal(guests(ours), guests(libvirtCaps));
    const machines = (s: string): string[][] =>
      s.split('<guest>').slice(1).map((g) => [...g.matchAll(/<machine\b.*<\/machine>/g)].map((m) => m[0]));
    const [o, l] = [machines(ours), machines(libvirtCaps)];
    assert.equal(o.length, l.length);
    o.forEach((list, i) => {
      assert.deepEqual(list.slice(0, 2), l[i]!.slice(0, 2));
      assert.deepEqual([...list].sort(), [...l[i]!].sort());
    });
    // host: libvirt also names a host CPU model and its features (from its CPU map), a TSC
    // counter, migration transports (tsvirt does not migrate), and the DAC security model
    const host = (s: string): string =>
      volatile(s.slice(0, s.indexOf('  <guest>')))
        .replace(/ *<secmodel>\s*<model>dac[\s\S]*?<\/secmodel>\n/, '')
        .replace(/ *<uuid>.*\n/, '')
        .replace(/ *<(model|feature name|counter)\b.*\n/g, '')
        .replace(/ *<migration_features>[\s\S]*<\/migration_features>\n/, '');
    assert.equal(host(ours), host(libvirtCaps));
  });

  test('domcapabilities: the same emulator, machine, limits and CPU models; the same shape', () => {
    const ours = formatDomainCapabilitiesXML(qemuDomainCapabilities(emulators, {}));
    const head = (s: string): string => s.slice(0, s.indexOf('  <iothreads'));
    assert.equal(head(ours), head(libvirtDomCaps));
    const models = (s: string): string[] => [...s.matchAll(/<model usable=.*<\/model>/g)].map((m) => m[0]);
    assert.deepEqual(models(ours), models(libvirtDomCaps));
    // the sequence of elements down to the devices and features (their values and enums are
    // what tsvirt's command line can do)
    const shape = (s: string): string[] =>
      [...s.matchAll(/^( {0,6})<([a-zA-Z-]+)(?: name='([^']+)')?/gm)].filter((m) => !['value', 'model', 'feature', 'vendor', 'enum'].includes(m[2]!)).map((m) => `${m[1]}${m[2]} ${m[3] ?? ''}`);
    assert.deepEqual(shape(ours), shape(libvirtDomCaps));
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  formatCapabilitiesXML,
  formatDomainCapabilitiesXML,
  parseCapabilitiesXML,
  parseDomainCapabilitiesXML,
  prettySize,
  capabilitiesSupport,
  type Capabilities,
  type DomainCapabilities,
} from '../../src/conf/capabilities/index.js';
import { testCapabilities, testCapabilitiesXML, testDefaultNodeInfo } from '../../src/drivers/test/capabilities.js';
import { projectRoot } from '../helpers/system.js';
import { oracleSkip } from './libvirtOracle.js';

const DIR = join(projectRoot, 'test/fixtures/capabilities');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');

// Captured from libvirt 9.0 with QEMU 7.2 (qemu:///session, TCG only) and from its test driver.
test('host capabilities of real libvirt read back and print identically', () => {
  for (const f of ['qemu-x86_64-caps.xml', 'test-default-caps.xml', 'test-nodefile-caps.xml']) {
    const xml = read(f);
    assert.equal(formatCapabilitiesXML(parseCapabilitiesXML(xml)), xml, f);
  }
  const caps = parseCapabilitiesXML(read('qemu-x86_64-caps.xml'));
  assert.equal(caps.host.cpu.def?.model?.name, 'kvm64');
  assert.deepEqual(caps.host.migration, { live: true, uriTransports: ['tcp', 'rdma'] });
  const x86 = caps.guests.find((g) => g.arch.name === 'x86_64')!;
  assert.equal(x86.arch.emulator, '/usr/bin/qemu-system-x86_64');
  assert.deepEqual(x86.arch.machines.find((m) => m.name === 'q35'), { name: 'q35', canonical: 'pc-q35-7.2', maxCpus: 288 });
  assert.ok(capabilitiesSupport(caps, 'hvm', 'x86_64', 'qemu'));
  assert.equal(capabilitiesSupport(caps, 'hvm', 'x86_64', 'kvm'), undefined);
  assert.equal(caps.host.cache?.banks[0]?.size, 32 * 1024 * 1024);
});

test('domain capabilities of real libvirt read back and print identically', () => {
  for (const f of ['qemu-x86_64-domcaps.xml', 'qemu-x86_64-q35-domcaps.xml', 'qemu-i386-domcaps.xml']) {
    const xml = read(f);
    assert.equal(formatDomainCapabilitiesXML(parseDomainCapabilitiesXML(xml)), xml, f);
  }
  const dc = parseDomainCapabilitiesXML(read('qemu-x86_64-q35-domcaps.xml'));
  assert.equal(dc.machine, 'pc-q35-7.2');
  assert.equal(dc.cpu.hostModel?.model?.fallback, 'forbid');
  assert.ok(dc.cpu.custom.some((m) => m.name === 'qemu64' && m.usable === 'yes' && m.vendor === undefined));
  assert.deepEqual(dc.devices.disk?.enums[0], { name: 'diskDevice', values: ['disk', 'cdrom', 'floppy', 'lun'] });
});

test('the test driver reports the capabilities and node info of libvirt\'s test driver', () => {
  assert.equal(testCapabilitiesXML(2), read('test-default-caps.xml'));
  assert.equal(testCapabilitiesXML(0), read('test-nodefile-caps.xml'));
  assert.deepEqual(testDefaultNodeInfo(), { model: 'i686', memory: 3145728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 });
  const caps = testCapabilities();
  assert.equal(caps.host.topology?.cells[1]?.pages[0]?.size, 8, "libvirt's 8 KiB base pages on cell 1");
  assert.ok(capabilitiesSupport(caps, 'xen', 'i686', 'test'));
});

test('the same as the installed libvirt test driver', { skip: oracleSkip() }, () => {
  const py = spawnSync('/usr/bin/python3', ['-c', "import libvirt,sys; sys.stdout.write(libvirt.open('test:///default').getCapabilities())"], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.equal(testCapabilitiesXML(2), py.stdout);
  const info = spawnSync('/usr/bin/python3', ['-c', "import libvirt,json; print(json.dumps(libvirt.open('test:///default').getInfo()))"], { encoding: 'utf8' });
  const [model, memMiB, cpus, mhz, nodes, sockets, cores, threads] = JSON.parse(info.stdout) as [string, ...number[]];
  const mine = testDefaultNodeInfo();
  // python-libvirt's getInfo() reports memory in MiB.
  assert.deepEqual({ model, memory: memMiB! * 1024, cpus, mhz, nodes, sockets, cores, threads }, mine);
});

test('formatting rules for what the fixtures do not show', () => {
  const caps: Capabilities = {
    host: {
      uuid: '201af6d1-66b9-4e0f-925a-48c2141d7cbb',
      cpu: {
        arch: 'x86_64',
        features: ['vmx'],
        def: {
          model: { name: 'Skylake-Client-IBRS' },
          vendor: 'Intel',
          counter: { name: 'tsc', frequency: 2893299000, scaling: false },
          topology: { sockets: 1, dies: 1, cores: 4, threads: 2 },
          feature: [{ name: 'ds' }],
        },
        pages: [4],
      },
      powerManagement: ['suspend_disk', 'suspend_mem'],
      iommu: true,
      migration: { live: false, uriTransports: [] },
      netprefix: 'vnet',
      topology: { cells: [{ id: 0, pages: [], distances: [], cpus: [{ id: 0 }], cache: [{ level: 1, associativity: 'direct', policy: 'writeback', size: 1024, line: 64 }] }] },
      cache: { banks: [{ id: 0, level: 2, type: 'both', size: 1280 * 1024, cpus: [0, 1, 2, 5], control: [{ granularity: 768, unit: 'KiB', type: 'both', maxAllocs: 4 }] }] },
      secmodel: [{ model: 'dac', doi: '0', baselabel: [{ type: 'kvm', label: '+64055:+994' }] }],
    },
    guests: [
      {
        osType: 'hvm',
        arch: {
          name: 'x86_64',
          wordsize: 64,
          emulator: '/usr/bin/qemu-system-x86_64',
          machines: [{ name: 'pc-i440fx-1.5', maxCpus: 255, deprecated: true }],
          domains: [
            { type: 'qemu', machines: [] },
            { type: 'kvm', emulator: '/usr/bin/qemu-kvm', machines: [{ name: 'pc-i440fx-1.5', maxCpus: 255, deprecated: true }] },
          ],
        },
        features: [{ name: 'apic', default: 'on', toggle: false }, { name: 'acpi', default: 'on', toggle: true }],
      },
    ],
  };
  assert.equal(
    formatCapabilitiesXML(caps),
    `<capabilities>

  <host>
    <uuid>201af6d1-66b9-4e0f-925a-48c2141d7cbb</uuid>
    <cpu>
      <arch>x86_64</arch>
      <features>
        <vmx/>
      </features>
      <model>Skylake-Client-IBRS</model>
      <vendor>Intel</vendor>
      <counter name='tsc' frequency='2893299000' scaling='no'/>
      <topology sockets='1' dies='1' cores='4' threads='2'/>
      <feature name='ds'/>
      <pages unit='KiB' size='4'/>
    </cpu>
    <power_management>
      <suspend_mem/>
      <suspend_disk/>
    </power_management>
    <iommu support='yes'/>
    <migration_features>
    </migration_features>
    <netprefix>vnet</netprefix>
    <topology>
      <cells num='1'>
        <cell id='0'>
          <cache level='1' associativity='direct' policy='writeback'>
            <size value='1024' unit='KiB'/>
            <line value='64' unit='B'/>
          </cache>
          <cpus num='1'>
            <cpu id='0'/>
          </cpus>
        </cell>
      </cells>
    </topology>
    <cache>
      <bank id='0' level='2' type='both' size='1280' unit='KiB' cpus='0-2,5'>
        <control granularity='768' unit='KiB' type='both' maxAllocs='4'/>
      </bank>
    </cache>
    <secmodel>
      <model>dac</model>
      <doi>0</doi>
      <baselabel type='kvm'>+64055:+994</baselabel>
    </secmodel>
  </host>

  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'>
      <wordsize>64</wordsize>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <machine maxCpus='255' deprecated='yes'>pc-i440fx-1.5</machine>
      <domain type='qemu'/>
      <domain type='kvm'>
        <emulator>/usr/bin/qemu-kvm</emulator>
        <machine maxCpus='255'>pc-i440fx-1.5</machine>
      </domain>
    </arch>
    <features>
      <acpi default='on' toggle='yes'/>
      <apic default='on' toggle='no'/>
    </features>
  </guest>

</capabilities>
`,
  );
  assert.deepEqual(prettySize(32 * 1024 * 1024), { size: 32, unit: 'MiB' });
  assert.deepEqual(prettySize(1000), { size: 1000, unit: 'B' });
  assert.equal(
    formatCapabilitiesXML({ host: { cpu: { arch: '', features: [], pages: [] }, powerManagement: [], iommu: false, secmodel: [] }, guests: [] }),
    '<capabilities>\n\n</capabilities>\n',
    'a host with nothing to say is left out',
  );
});

test('domain capabilities: supported features with details', () => {
  const dc: DomainCapabilities = {
    path: '/usr/bin/qemu-system-x86_64',
    domain: 'kvm',
    arch: 'x86_64',
    cpu: { hostPassthrough: true, hostPassthroughMigratable: ['on', 'off'], maximum: false, custom: [] },
    devices: { disk: { supported: false, enums: [] }, tpm: { supported: true, enums: [{ name: 'model', values: [] }] } },
    features: {
      simple: { backup: true, 'async-teardown': false },
      sev: { cbitpos: 47, reducedPhysBits: 1, maxGuests: 15, maxESGuests: 0 },
      sgx: { flc: true, sgx1: true, sgx2: false, sectionSize: 65536, sections: [{ node: 0, size: 65536 }] },
    },
  };
  assert.equal(
    formatDomainCapabilitiesXML(dc),
    `<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>kvm</domain>
  <arch>x86_64</arch>
  <cpu>
    <mode name='host-passthrough' supported='yes'>
      <enum name='hostPassthroughMigratable'>
        <value>on</value>
        <value>off</value>
      </enum>
    </mode>
    <mode name='maximum' supported='no'/>
    <mode name='host-model' supported='no'/>
    <mode name='custom' supported='no'/>
  </cpu>
  <devices>
    <disk supported='no'/>
    <tpm supported='yes'>
      <enum name='model'/>
    </tpm>
  </devices>
  <features>
    <backup supported='yes'/>
    <async-teardown supported='no'/>
    <sev supported='yes'>
      <cbitpos>47</cbitpos>
      <reducedPhysBits>1</reducedPhysBits>
      <maxGuests>15</maxGuests>
      <maxESGuests>0</maxESGuests>
    </sev>
    <sgx supported='yes'>
      <flc>yes</flc>
      <sgx1>yes</sgx1>
      <sgx2>no</sgx2>
      <section_size unit='KiB'>65536</section_size>
      <sections>
        <section node='0' size='65536' unit='KiB'/>
      </sections>
    </sgx>
  </features>
</domainCapabilities>
`,
  );
  assert.deepEqual(parseDomainCapabilitiesXML(formatDomainCapabilitiesXML(dc)), dc);
});

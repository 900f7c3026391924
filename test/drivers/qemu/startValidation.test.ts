// What the QEMU driver refuses, at define and at start, with libvirt 9.0's codes, domains and
// messages (checked against real libvirt: qemu:///embed start in a network namespace), and the
// addresses and aliases it gives hotplugged devices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDeviceXML, type DomainDef } from '../../../src/conf/domain/index.js';
import type { InterfaceDef } from '../../../src/conf/domain/interface.js';
import type { QemuCaps } from '../../../src/drivers/qemu/capabilities.js';
import { buildQemuCommandLine, validateDomainForStart } from '../../../src/drivers/qemu/commandLine.js';
import { assignHotplugAlias } from '../../../src/drivers/qemu/deviceAliases.js';
import { assignHotplugAddress } from '../../../src/drivers/qemu/deviceAddresses.js';
import { interfaceQueues, validateInterfaceForStart } from '../../../src/drivers/qemu/devices/interface.js';
import { ErrorDomain, ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { defineFixture, fixtureCaps, fixtureContext, fixtureDriver } from './qemuFixtures.js';

function domain(devices: string, extra = ''): string {
  return `<domain type='qemu'><name>v</name><memory unit='MiB'>128</memory><os><type>hvm</type></os>${extra}<devices>${devices}</devices></domain>`;
}

function rejects(f: () => unknown, code: number, domain: number, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof VirtError, String(e));
    assert.deepEqual([e.code, e.domain, e.message], [code, domain, message]);
    return true;
  });
}

function firstInterface(xml: string): InterfaceDef {
  return defineFixture(xml).devices.interfaces![0]!;
}

test('netdev case 56: a vlan on a plain bridge interface is refused at start, before anything is built', () => {
  const def = defineFixture(
    domain(`<interface type='bridge'><mac address='52:54:00:00:56:01'/><source bridge='br0'/><vlan><tag id='42'/></vlan><model type='virtio'/></interface>`),
  );
  const msg = 'unsupported configuration: interface 52:54:00:00:56:01 - vlan tag not supported for this connection type';
  rejects(() => validateInterfaceForStart(def.devices.interfaces![0]!), ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN, msg);
  rejects(() => validateDomainForStart(def, fixtureCaps), ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN, msg);
  const live = structuredClone(def);
  rejects(() => buildQemuCommandLine(live, fixtureContext(live)), ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN, msg);
  // refused before the live definition was touched (no aliases given)
  assert.equal(live.devices.interfaces![0]!.alias, undefined);
});

test('a vlan is accepted where the connection can tag: openvswitch bridge, macvtap passthrough, hostdev', () => {
  for (const x of [
    `<interface type='bridge'><mac address='52:54:00:00:56:02'/><source bridge='ovs0'/><virtualport type='openvswitch'/><vlan><tag id='42'/></vlan></interface>`,
    `<interface type='direct'><mac address='52:54:00:00:56:03'/><source dev='eth0' mode='passthrough'/><vlan><tag id='42'/></vlan></interface>`,
    `<interface type='hostdev'><mac address='52:54:00:00:56:04'/><source><address type='pci' domain='0' bus='3' slot='16' function='1'/></source><vlan><tag id='42'/></vlan></interface>`,
  ]) {
    assert.doesNotThrow(() => validateInterfaceForStart(firstInterface(domain(x))), x);
  }
  rejects(
    () =>
      validateInterfaceForStart(
        firstInterface(domain(`<interface type='direct'><mac address='52:54:00:00:56:05'/><source dev='eth0' mode='bridge'/><vlan><tag id='7'/></vlan></interface>`)),
      ),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.DOMAIN,
    'unsupported configuration: interface 52:54:00:00:56:05 - vlan tag not supported for this connection type',
  );
});

test('bandwidth on a hostdev interface and multiqueue on user networking are refused at start', () => {
  rejects(
    () =>
      validateInterfaceForStart(
        firstInterface(
          domain(
            `<interface type='hostdev'><mac address='52:54:00:00:58:01'/><source><address type='pci' domain='0' bus='3' slot='16' function='1'/></source><bandwidth><inbound average='100'/></bandwidth></interface>`,
          ),
        ),
      ),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.DOMAIN,
    'unsupported configuration: interface 52:54:00:00:58:01 - bandwidth settings are not supported for hostdev interfaces',
  );
  rejects(
    () => validateInterfaceForStart(firstInterface(domain(`<interface type='user'><mac address='52:54:00:00:56:02'/><model type='virtio'/><driver queues='2'/></interface>`))),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.QEMU,
    'unsupported configuration: interface 52:54:00:00:56:02 - multiqueue is not supported for network interfaces of type user',
  );
});

test('queues count only for virtio NICs: an e1000 with <driver queues> takes one tap fd, as under libvirt', () => {
  const def = defineFixture(domain(`<interface type='ethernet'><mac address='52:54:00:00:56:04'/><model type='e1000'/><driver queues='2'/></interface>`));
  assert.equal(interfaceQueues(def.devices.interfaces![0]!), 1);
  const live = structuredClone(def);
  const args = buildQemuCommandLine(live, fixtureContext(live)).args;
  assert.ok(args.includes('{"type":"tap","fd":"3","id":"hostnet0"}'), args.join(' '));
});

test('define refuses an MTU where QEMU has none to set', () => {
  rejects(
    () => defineFixture(domain(`<interface type='user'><mac address='52:54:00:00:56:03'/><model type='virtio'/><mtu size='1400'/></interface>`)),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.QEMU,
    'unsupported configuration: setting MTU on interface type user is not supported yet',
  );
});

test('define refuses what the emulator cannot run: virt type, machine, architecture', () => {
  const bin = '/usr/bin/qemu-system-x86_64';
  rejects(
    () => defineFixture(domain('').replace("type='qemu'", "type='xen'")),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.QEMU,
    `unsupported configuration: Emulator '${bin}' does not support virt type 'xen'`,
  );
  rejects(
    () => defineFixture(domain('').replace('<type>hvm', "<type machine='foo'>hvm")),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.QEMU,
    `unsupported configuration: Emulator '${bin}' does not support machine type 'foo'`,
  );
  rejects(
    () => defineFixture(domain('').replace('<type>hvm', "<type arch='aarch64'>hvm")),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.QEMU,
    "unsupported configuration: No emulator found for arch 'aarch64'",
  );
  rejects(
    () => defineFixture(domain('<emulator>/nonexistent/qemu</emulator>')),
    ErrorNumber.SYSTEM_ERROR,
    ErrorDomain.QEMU,
    'Cannot check QEMU binary /nonexistent/qemu: No such file or directory',
  );
});

test('start refuses KVM where the emulator has none, and a second VNC display', () => {
  const noKvm: QemuCaps = { ...fixtureCaps, kvm: { present: true, enabled: false } };
  const def = defineFixture(domain(''));
  def.type = 'kvm';
  rejects(
    () => validateDomainForStart(def, noKvm),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.QEMU,
    "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'kvm'",
  );
  const two = defineFixture(domain(`<graphics type='vnc'/><graphics type='vnc' port='5905'/>`));
  rejects(
    () => validateDomainForStart(two, fixtureCaps),
    ErrorNumber.CONFIG_UNSUPPORTED,
    ErrorDomain.QEMU,
    'unsupported configuration: only 1 graphics device of each type (sdl, vnc, spice, headless, dbus) is supported',
  );
});

test('a tap interface without the fds it needs is an internal error naming it', () => {
  const def = defineFixture(domain(`<interface type='ethernet'><mac address='52:54:00:00:56:09'/><model type='virtio'/><driver queues='2'/></interface>`));
  const ctx = { ...fixtureContext(def), netFds: new Map([['net0', [3]]]) };
  rejects(() => buildQemuCommandLine(def, ctx), ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, 'internal error: interface net0 needs 2 tap file descriptors, got 1');
});

test('two devices on one PCI address are refused at define', () => {
  const addr = "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>";
  rejects(
    () =>
      defineFixture(
        domain(
          `<interface type='user'><mac address='52:54:00:00:57:01'/>${addr}</interface><interface type='user'><mac address='52:54:00:00:57:02'/>${addr}</interface>`,
        ),
      ),
    ErrorNumber.XML_ERROR,
    ErrorDomain.DOMAIN,
    'XML error: Attempted double use of PCI Address 0000:00:05.0',
  );
});

test('a hotplugged NIC and disk get the next free slots and the next aliases', () => {
  const def: DomainDef = defineFixture(domain(`<interface type='user'><mac address='52:54:00:00:59:01'/><model type='virtio'/></interface>`));
  const live = structuredClone(def);
  buildQemuCommandLine(live, fixtureContext(live));
  // slot 2 net0, slot 3 balloon
  const nic = parseDeviceXML(`<interface type='user'><mac address='52:54:00:00:59:02'/><model type='virtio'/></interface>`, live, { driver: fixtureDriver });
  assignHotplugAddress(live, nic);
  assignHotplugAlias(live, nic);
  assert.equal(nic.kind, 'interface');
  assert.deepEqual(nic.def.address, { type: 'pci', domain: 0, bus: 0, slot: 4, function: 0 });
  assert.equal(nic.def.alias, 'net1');
  live.devices.interfaces!.push(nic.def as InterfaceDef);
  const disk = parseDeviceXML(`<disk type='file'><source file='/tmp/x.img'/><target dev='vdc' bus='virtio'/></disk>`, live, { driver: fixtureDriver });
  assignHotplugAddress(live, disk);
  assignHotplugAlias(live, disk);
  assert.deepEqual((disk.def as { address?: unknown }).address, { type: 'pci', domain: 0, bus: 0, slot: 5, function: 0 });
  assert.equal((disk.def as { alias?: string }).alias, 'virtio-disk2');
});

test('what the command line cannot express is refused at start, not dropped', () => {
  const cases: [string, string, string][] = [
    [domain(`<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>`), '', "unsupported configuration: tpm devices are not supported by tsvirt's QEMU driver"],
    [domain('', `<memoryBacking><hugepages/></memoryBacking>`), '', "unsupported configuration: huge page backed memory is not supported by tsvirt's QEMU driver"],
    [
      domain(`<disk type='file'><source file='/tmp/a.img'/><target dev='vda' bus='virtio'/><iotune><total_bytes_sec>1000</total_bytes_sec></iotune></disk>`),
      '',
      "unsupported configuration: disk I/O throttling (<iotune>) of disk 'vda' is not supported by tsvirt's QEMU driver",
    ],
  ];
  for (const [xml, , message] of cases) {
    const def = defineFixture(xml);
    rejects(() => validateDomainForStart(def, fixtureCaps), ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, message);
  }
});

test('locked guest memory is asked of QEMU', () => {
  const def = defineFixture(domain('', `<memoryBacking><locked/></memoryBacking>`));
  const args = buildQemuCommandLine(def, fixtureContext(def)).args;
  assert.equal(args[args.indexOf('-overcommit') + 1], 'mem-lock=on');
});

// Parse + format throughput of a 40-device domain (the getXMLDesc hot path), side by side with
// libvirt's own test driver through python-libvirt (defineXML + XMLDesc) when it is installed.
// Run: node dist/bench/xml/parseFormat.js [iterations]
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { formatDomainXML, parseDomainXML } from '../../src/conf/domain/index.js';
import { testDomainDefaults } from '../../src/drivers/test/domainDefaults.js';

/** A domain with 40 devices of the kinds a real guest has. */
export function fortyDeviceDomain(): string {
  const dev: string[] = [];
  for (let i = 0; i < 8; i++) {
    dev.push(
      `<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none' io='native'/>` +
        `<source file='/var/lib/images/disk${i}.qcow2'/><target dev='vd${String.fromCharCode(97 + i)}' bus='virtio'/>` +
        `<address type='pci' domain='0x0000' bus='0x01' slot='0x${(i + 1).toString(16)}' function='0x0'/></disk>`,
    );
  }
  dev.push("<disk type='file' device='cdrom'><source file='/iso/install.iso'/><target dev='sda' bus='sata'/></disk>");
  dev.push("<controller type='usb' index='0' model='qemu-xhci' ports='15'/>", "<controller type='sata' index='0'/>");
  dev.push("<controller type='pci' index='0' model='pcie-root'/>", "<controller type='virtio-serial' index='0'/>");
  for (let i = 0; i < 10; i++) {
    const mac = `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`;
    const types = [
      `<interface type='network'><mac address='${mac}'/><source network='default' portgroup='pg${i}'/><bandwidth><inbound average='1000' peak='5000' floor='100' burst='1024'/><outbound average='128'/></bandwidth><model type='virtio'/></interface>`,
      `<interface type='bridge'><mac address='${mac}'/><source bridge='br0'/><vlan trunk='yes'><tag id='4${i}' nativeMode='untagged'/><tag id='5${i}'/></vlan><virtualport type='openvswitch'><parameters interfaceid='3f3c4b3a-3d6b-4c42-9bda-8c3f0a4d1e2${i}'/></virtualport><model type='virtio'/></interface>`,
      `<interface type='direct'><mac address='${mac}'/><source dev='eth${i}' mode='passthrough'/><vlan><tag id='${100 + i}'/></vlan><model type='virtio'/></interface>`,
      `<interface type='hostdev' managed='yes'><mac address='${mac}'/><driver name='vfio'/><source><address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x${i % 8}'/></source></interface>`,
      `<interface type='ethernet'><mac address='${mac}'/><target dev='tap${i}' managed='no'/><model type='virtio'/><mtu size='9000'/></interface>`,
    ];
    dev.push(types[i % types.length]!);
  }
  dev.push("<serial type='pty'><target port='0'/></serial>", "<serial type='file'><source path='/var/log/s1.log'/><target port='1'/></serial>");
  dev.push("<console type='pty'><target type='serial' port='0'/></console>");
  dev.push("<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>");
  dev.push("<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>");
  dev.push("<input type='tablet' bus='usb'/>", "<input type='mouse' bus='ps2'/>", "<input type='keyboard' bus='ps2'/>");
  dev.push("<graphics type='vnc' port='-1' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>");
  dev.push("<graphics type='spice' autoport='yes'><image compression='off'/></graphics>");
  dev.push("<sound model='ich9'/>", "<audio id='1' type='spice'/>", "<video><model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1'/></video>");
  dev.push("<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>");
  dev.push("<watchdog model='i6300esb' action='reset'/>", "<memballoon model='virtio'><stats period='10'/></memballoon>");
  dev.push("<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>", "<panic model='isa'/>");
  return (
    `<domain type='test'><name>bench40</name><uuid>0b9c2f3e-1a11-4d7e-9c3f-00000000be40</uuid>` +
    `<metadata><app:vm xmlns:app='http://example.org/app'><app:owner>bench</app:owner></app:vm></metadata>` +
    `<memory unit='GiB'>4</memory><vcpu placement='static'>4</vcpu><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><boot dev='hd'/></os>` +
    `<features><acpi/><apic/><vmport state='off'/></features><cpu mode='host-passthrough' check='none' migratable='on'/>` +
    `<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/><timer name='pit' tickpolicy='delay'/><timer name='hpet' present='no'/></clock>` +
    `<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>` +
    `<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>${dev.join('')}</devices></domain>`
  );
}

function countDevices(xml: string): number {
  const inner = /<devices>([\s\S]*)<\/devices>/.exec(xml)![1]!;
  // top-level elements of <devices> other than <emulator>
  let depth = 0;
  let n = 0;
  for (const m of inner.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (m[1]) depth--;
    else {
      if (depth === 0 && m[2] !== 'emulator') n++;
      if (!m[3]) depth++;
    }
  }
  return n;
}

function tsvirt(xml: string, iterations: number): { opsPerSec: number; usPerOp: number } {
  const opts = { driver: testDomainDefaults };
  for (let i = 0; i < Math.min(200, iterations); i++) formatDomainXML(parseDomainXML(xml, opts), opts);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) formatDomainXML(parseDomainXML(xml, opts), opts);
  const ms = performance.now() - t0;
  return { opsPerSec: (iterations * 1000) / ms, usPerOp: (ms * 1000) / iterations };
}

const PY = `
import sys, time, libvirt
xml = sys.stdin.read()
n = int(sys.argv[1])
libvirt.registerErrorHandler(lambda *a: None, None)
c = libvirt.open('test:///default')
for i in range(min(200, n)):
    c.defineXML(xml).XMLDesc(0)
t0 = time.perf_counter()
for i in range(n):
    c.defineXML(xml).XMLDesc(0)
dt = time.perf_counter() - t0
print(n / dt, dt * 1e6 / n)
`;

function libvirtTestDriver(xml: string, iterations: number): { opsPerSec: number; usPerOp: number } | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import libvirt'], { stdio: 'ignore' });
  if (probe.status !== 0) return 'python3-libvirt not installed';
  const r = spawnSync('/usr/bin/python3', ['-c', PY, String(iterations)], { input: xml, encoding: 'utf8' });
  if (r.status !== 0) return `python-libvirt failed: ${r.stderr.trim()}`;
  const [ops, us] = r.stdout.trim().split(/\s+/).map(Number) as [number, number];
  return { opsPerSec: ops, usPerOp: us };
}

if (process.env.BENCH_DUMP) { process.stdout.write(fortyDeviceDomain()); process.exit(0); }
const iterations = Number(process.argv[2] ?? 2000);
const xml = fortyDeviceDomain();
const out = formatDomainXML(parseDomainXML(xml, { driver: testDomainDefaults }), { driver: testDomainDefaults });
console.log(`domain: ${countDevices(xml)} devices, ${xml.length} bytes in, ${out.length} bytes out; ${iterations} iterations`);
const ours = tsvirt(xml, iterations);
console.log(`tsvirt parseDomainXML+formatDomainXML      ${ours.opsPerSec.toFixed(0).padStart(8)} ops/s  ${ours.usPerOp.toFixed(1).padStart(8)} µs/op`);
const theirs = libvirtTestDriver(xml, iterations);
if (typeof theirs === 'string') console.log(`libvirt test driver (python-libvirt)       skipped: ${theirs}`);
else {
  console.log(`libvirt test driver defineXML+XMLDesc      ${theirs.opsPerSec.toFixed(0).padStart(8)} ops/s  ${theirs.usPerOp.toFixed(1).padStart(8)} µs/op`);
  console.log(`ratio tsvirt/libvirt: ${(ours.opsPerSec / theirs.opsPerSec).toFixed(2)}`);
}

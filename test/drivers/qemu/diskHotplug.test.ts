// Removable media and disk hotplug with real QEMU, step by step beside real libvirt 9.0
// (qemu:///embed in python-libvirt) doing the same to the same XML: a cdrom's medium changed,
// ejected and inserted again (update-device: open tray, remove medium, add nodes, insert, close
// tray), a disk hotplugged on a virtio-scsi controller and one on USB, both detached. After each
// step the live <disk> elements and the events (TRAY_CHANGE, DISK_CHANGE, DEVICE_ADDED,
// DEVICE_REMOVED) must equal libvirt's, and QEMU must hold exactly the images it should
// (/proc/PID/fd). Updates libvirt refuses are refused with its code and message. Both guests
// stay paused: a booting guest's ATAPI driver closes the tray on its own schedule, which made
// libvirt's own media change fail now and then ("Tray of the device is not open").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, type DomainEventMessage, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { DomainCreateFlags, DomainEventID } from '../../../src/drivers/constants.js';
import { guestSkipReason } from '../../helpers/guest.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { destroyAll, openEmbed, statusPid } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ root: true, commands: ['qemu-system-x86_64', 'virsh'] }) || guestSkipReason();

const EVENTS = [DomainEventID.DISK_CHANGE, DomainEventID.TRAY_CHANGE, DomainEventID.DEVICE_ADDED, DomainEventID.DEVICE_REMOVED];

// Runs the steps on libvirt and prints, per step, the live <disk> elements and the events.
const PY = `
import json, sys, time, threading, re, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()
root, xmlfile, stepsfile = sys.argv[1:4]
conn = libvirt.open('qemu:///embed?root=' + root)
events = []
def rec(eid, fields):
    return lambda c, d, *a: events.append([eid] + [x for x in a[:-1]][:fields])
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DISK_CHANGE, rec(9, 4), None)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, rec(10, 2), None)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, rec(15, 1), None)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, rec(19, 1), None)
dom = conn.defineXML(open(xmlfile).read())
dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
out = []
for step in json.load(open(stepsfile)):
    events.clear()
    err = None
    try:
        getattr(dom, step['op'] + 'DeviceFlags')(step['xml'], libvirt.VIR_DOMAIN_AFFECT_LIVE)
    except libvirt.libvirtError as e:
        err = [e.get_error_code(), e.get_error_message()]
    time.sleep(1.5)
    x = dom.XMLDesc(0)
    out.append({'disks': re.findall(r'<disk .*?</disk>', x, re.S), 'scsi': re.findall(r"<controller type='scsi'.*?</controller>", x, re.S), 'events': list(events), 'error': err})
sys.stdout.write(json.dumps(out))
sys.stdout.flush()
dom.destroy()
dom.undefine()
`;

interface StepResult {
  disks: string[];
  scsi: string[];
  events: unknown[][];
  error: [number, string] | null;
}

describe('cdrom media changes and scsi/usb disk hotplug, beside libvirt 9.0', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-polish-disks-${process.pid}-`);
  const img = join(tmp.path, 'img');
  const cd1 = join(img, 'cd1.iso');
  const cd2 = join(img, 'cd2.iso');
  const d1 = join(img, 'd1.img');
  const d2 = join(img, 'd2.img');
  const cdrom = (src?: string): string =>
    `<disk type='file' device='cdrom'>${src ? `<source file='${src}'/>` : ''}<target dev='hdc' bus='ide'/><readonly/></disk>`;
  const disk = (src: string, dev: string, bus: string): string =>
    `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${src}'/><target dev='${dev}' bus='${bus}'/></disk>`;
  const diskOn = (src: string, dev: string, controller: number): string =>
    `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${src}'/><target dev='${dev}' bus='scsi'/><address type='drive' controller='${controller}' bus='0' target='0' unit='0'/></disk>`;
  const steps: { op: 'update' | 'attach' | 'detach'; xml: string; holds: string[] }[] = [
    { op: 'update', xml: cdrom(cd2), holds: [cd2] },
    { op: 'update', xml: cdrom(), holds: [] },
    { op: 'update', xml: cdrom(cd1), holds: [cd1] },
    { op: 'attach', xml: disk(d1, 'sda', 'scsi'), holds: [cd1, d1] },
    { op: 'attach', xml: disk(d2, 'sdb', 'usb'), holds: [cd1, d1, d2] },
    { op: 'detach', xml: disk(d1, 'sda', 'scsi'), holds: [cd1, d2] },
    { op: 'detach', xml: disk(d2, 'sdb', 'usb'), holds: [cd1] },
    // a drive address on a SCSI controller that does not exist: libvirt hotplugs one first
    { op: 'attach', xml: diskOn(d1, 'sdc', 1), holds: [cd1, d1] },
    { op: 'detach', xml: diskOn(d1, 'sdc', 1), holds: [cd1] },
    // refused: a disk's device cannot change, nor can a fixed disk get another medium
    { op: 'update', xml: `<disk type='file' device='disk'><source file='${d2}'/><target dev='hdc' bus='ide'/></disk>`, holds: [cd1] },
    { op: 'update', xml: `<disk type='file' device='disk'><source file='${d2}'/><target dev='vda' bus='virtio'/></disk>`, holds: [cd1] },
  ];
  const domXML = (name: string): string =>
    guestDomainXML({
      name,
      devices: [
        `<disk type='file' device='cdrom'><source file='${cd1}'/><target dev='hdc' bus='ide'/><readonly/></disk>`,
        `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${join(img, 'root.img')}'/><target dev='vda' bus='virtio'/></disk>`,
        "<controller type='scsi' model='virtio-scsi'/>",
      ],
    });
  let libvirt: StepResult[] = [];
  let conn: Connection;

  before(() => {
    mkdirSync(join(tmp.path, 'lv', 'etc'), { recursive: true });
    mkdirSync(img);
    chmodSync(tmp.path, 0o755);
    for (const [f, mb] of [[cd1, 4], [cd2, 6], [d1, 8], [d2, 10], [join(img, 'root.img'), 2]] as const) writeFileSync(f, Buffer.alloc(mb * 1024 * 1024));
    writeFileSync(join(tmp.path, 'lv', 'etc', 'qemu.conf'), 'stdio_handler = "file"\nuser = "root"\ngroup = "root"\n');
    writeFileSync(join(tmp.path, 'lv.xml'), domXML('lvdisks'));
    writeFileSync(join(tmp.path, 'steps.json'), JSON.stringify(steps.map(({ op, xml }) => ({ op, xml }))));
    const r = spawnSync('/usr/bin/python3', ['-c', PY, join(tmp.path, 'lv'), join(tmp.path, 'lv.xml'), join(tmp.path, 'steps.json')], {
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.ok(r.stdout, `libvirt's run: ${r.status ?? r.signal} ${r.stderr}`);
    libvirt = JSON.parse(r.stdout) as StepResult[];
  });
  after(async () => {
    await destroyAll(conn);
    await conn?.close();
    tmp.remove();
  });

  /** The image files a process has open. */
  function openImages(pid: number): string[] {
    const out = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith(img) && !target.endsWith('root.img')) out.add(target);
      } catch {
        // closed meanwhile
      }
    }
    return [...out].sort();
  }

  test('each step: live disks, events and errors as libvirt; QEMU holds the right images', async () => {
    conn = await openEmbed(join(tmp.path, 'ts'));
    const events: unknown[][] = [];
    for (const id of EVENTS) {
      await conn.domainEventRegisterAny(null, id, (ev: DomainEventMessage) => {
        const e = ev as DomainEventMessage & { devAlias?: string; reason?: number; oldSrcPath?: string; newSrcPath?: string };
        if (id === DomainEventID.TRAY_CHANGE) events.push([id, e.devAlias, e.reason]);
        else if (id === DomainEventID.DISK_CHANGE) events.push([id, e.oldSrcPath, e.newSrcPath, e.devAlias, e.reason]);
        else events.push([id, e.devAlias]);
      });
    }
    const dom = await conn.domainDefineXML(domXML('lvdisks'));
    await dom.createWithFlags(DomainCreateFlags.PAUSED);
    const pid = statusPid(join(tmp.path, 'ts'), 'lvdisks');
    assert.deepEqual(openImages(pid), [cd1]);
    assert.equal(libvirt.length, steps.length);
    for (const [i, step] of steps.entries()) {
      events.length = 0;
      let error: [number, string] | null = null;
      try {
        if (step.op === 'update') await dom.updateDeviceFlags(step.xml, 1);
        else if (step.op === 'attach') await dom.attachDeviceFlags(step.xml, 1);
        else await dom.detachDeviceFlags(step.xml, 1);
      } catch (err) {
        assert.ok(err instanceof VirtError, String(err));
        error = [err.code, err.message];
      }
      await new Promise((r) => setTimeout(r, 1500));
      const live = await dom.getXMLDesc();
      const ours: StepResult = {
        disks: [...live.matchAll(/<disk .*?<\/disk>/gs)].map((m) => m[0]),
        scsi: [...live.matchAll(/<controller type='scsi'.*?<\/controller>/gs)].map((m) => m[0]),
        events: [...events],
        error,
      };
      assert.deepEqual(ours, libvirt[i], `step ${i + 1}: ${step.op} ${step.xml}`);
      assert.deepEqual(openImages(pid), [...step.holds].sort(), `step ${i + 1}: the images QEMU has open`);
    }
    assert.equal(libvirt[9]!.error?.[0], ErrorNumber.OPERATION_UNSUPPORTED);
    assert.equal(libvirt[10]!.error?.[0], ErrorNumber.CONFIG_UNSUPPORTED);
    await dom.destroy();
  });
});

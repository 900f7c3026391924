// Guest panics with real QEMU and the test guest (TCG): a <panic model='isa'/> (QEMU's pvpanic,
// which the guest's pvpanic driver drives), `echo c > /proc/sysrq-trigger` in the guest, and
// each on_crash action. The expected states and events are what libvirt 9.0 gave for the same
// guest and XML on this machine (qemu:///embed, python-libvirt):
//   destroy           CRASHED/panicked (8,0), STOPPED/crashed (5,2); shut off, reason crashed
//   restart           CRASHED/panicked, REBOOT, RESUMED/unpaused (4,0); running, reason crashed
//   preserve          CRASHED/panicked; crashed/panicked (6,1) and active; destroy then gives
//                     SHUTDOWN/host (6,2) and STOPPED/destroyed (5,1)
//   coredump-destroy  as destroy, after a memory dump in <lib>/qemu/dump/<id>-<name>-<time>
// (libvirt also sent SUSPENDED/paused (3,0) before CRASHED in some runs: its STOP handler races
// its panic worker; tsvirt handles the panic first, as libvirt's runs without it did.)
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Connection, Domain } from '../../../src/api/index.js';
import { DomainEventType as E, DomainState as S } from '../../../src/drivers/constants.js';
import { guestSkipReason, type GuestConsole } from '../../helpers/guest.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { assertNoRuntimeLeft, destroyAll, EventLog, openEmbed, processAlive, startWithConsole, statusPid } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason();

describe('on_crash with a panicking guest (real QEMU, pvpanic)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-polish-crash-${process.pid}-`);
  const root = join(tmp.path, 'root');
  const dumpDir = join(root, 'lib', 'qemu', 'dump');
  let conn: Connection;
  let events: EventLog;
  const consoles: GuestConsole[] = [];

  before(async () => {
    conn = await openEmbed(root);
    events = await EventLog.attach(conn);
  });
  after(async () => {
    for (const c of consoles) c.close();
    await destroyAll(conn);
    await conn?.close();
    tmp.remove();
  });

  /** Boots a guest with a pvpanic device, waits for its shell, and panics its kernel. */
  async function bootAndPanic(name: string, onCrash: string): Promise<{ dom: Domain; guest: GuestConsole; pid: number; id: number }> {
    const dom = await conn.domainDefineXML(guestDomainXML({ name, onCrash, devices: ["<panic model='isa'/>"] }));
    const guest = await startWithConsole(dom);
    consoles.push(guest);
    await guest.waitReady(90_000);
    await guest.waitPrompt();
    // the pvpanic driver found QEMU's device
    assert.match(await guest.run('ls /sys/bus/acpi/drivers/pvpanic-mmio 2>/dev/null || ls /sys/bus/platform/drivers/pvpanic-mmio'), /QEMU0001/);
    const pid = statusPid(root, name);
    const id = dom.getID();
    events.clear();
    guest.stream.write('echo c > /proc/sysrq-trigger\n');
    await events.wait((e) => e.name === name && e.event === E.CRASHED);
    return { dom, guest, pid, id };
  }

  test("on_crash='destroy': crashed, then stopped as crashed", async () => {
    const { dom, pid } = await bootAndPanic('crash1', 'destroy');
    await events.wait((e) => e.name === 'crash1' && e.event === E.STOPPED);
    assert.deepEqual(events.lifecycle('crash1'), [
      [E.CRASHED, 0 /* panicked */],
      [E.STOPPED, 2 /* crashed */],
    ]);
    assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 3 /* crashed */ });
    assert.equal(processAlive(pid), false);
    assertNoRuntimeLeft(root, 'crash1');
    assert.equal(existsSync(dumpDir) && readdirSync(dumpDir).length > 0, false, 'no dump without coredump-*');
  });

  test("on_crash='restart': reset and run again, running with reason crashed", async () => {
    const { dom, guest, pid } = await bootAndPanic('crash2', 'restart');
    await events.wait((e) => e.name === 'crash2' && e.event === E.RESUMED);
    assert.deepEqual(events.lifecycle('crash2'), [
      [E.CRASHED, 0],
      [E.RESUMED, 0 /* unpaused */],
    ]);
    assert.ok(events.events.some((e) => e.name === 'crash2' && e.eventId === 1 /* REBOOT */), 'the reset is a REBOOT event');
    assert.deepEqual(await dom.getState(), { state: S.RUNNING, reason: 9 /* crashed */ });
    // the same QEMU runs the guest again, and it boots
    assert.equal(statusPid(root, 'crash2'), pid);
    await guest.waitReady(90_000);
    await dom.destroy();
  });

  test("on_crash='preserve': left crashed and paused; destroy reports the host's shutdown", async () => {
    const { dom, pid } = await bootAndPanic('crash3', 'preserve');
    // nothing more happens by itself
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(events.lifecycle('crash3'), [[E.CRASHED, 0]]);
    assert.deepEqual(await dom.getState(), { state: S.CRASHED, reason: 1 /* panicked */ });
    assert.equal(await dom.isActive(), true);
    assert.equal(processAlive(pid), true);
    assert.match(await dom.getXMLDesc(), /<domain type='qemu' id='\d+'>/);
    await dom.destroy();
    await events.wait((e) => e.name === 'crash3' && e.event === E.STOPPED);
    assert.deepEqual(events.lifecycle('crash3'), [
      [E.CRASHED, 0],
      [E.SHUTDOWN, 2 /* host */],
      [E.STOPPED, 1 /* destroyed */],
    ]);
    assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 2 /* destroyed */ });
    assertNoRuntimeLeft(root, 'crash3');
  });

  /** The one dump file of a domain run, checked to be an ELF core the size of guest memory. */
  function takeDump(id: number, name: string): void {
    const files = readdirSync(dumpDir).filter((f) => f.startsWith(`${id}-${name}-`));
    assert.equal(files.length, 1, `one dump of ${id}-${name}: ${readdirSync(dumpDir).join(', ')}`);
    const file = join(dumpDir, files[0]!);
    assert.match(files[0]!, new RegExp(`^${id}-${name}-\\d{4}-\\d\\d-\\d\\d-\\d\\d:\\d\\d:\\d\\d$`));
    const st = statSync(file);
    assert.equal(st.mode & 0o777, 0o600);
    // 128 MiB of guest memory plus ELF headers and notes
    assert.ok(st.size > 128 * 1024 * 1024, `dump size ${st.size}`);
    const fd = openSync(file, 'r');
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    assert.deepEqual([...magic], [0x7f, 0x45, 0x4c, 0x46], 'an ELF file');
    rmSync(file);
  }

  test("on_crash='coredump-destroy': the guest's memory is dumped, then it stops as crashed", async () => {
    const { dom, id } = await bootAndPanic('crash4', 'coredump-destroy');
    await events.wait((e) => e.name === 'crash4' && e.event === E.STOPPED, 120_000);
    assert.deepEqual(events.lifecycle('crash4'), [
      [E.CRASHED, 0],
      [E.STOPPED, 2],
    ]);
    assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 3 });
    takeDump(id, 'crash4');
    assertNoRuntimeLeft(root, 'crash4');
  });

  test("on_crash='coredump-destroy' whose dump fails: the guest stays crashed (libvirt's 'Dump failed')", async () => {
    // the dump directory cannot be made: a file stands where it goes
    rmSync(dumpDir, { recursive: true, force: true });
    writeFileSync(dumpDir, '');
    try {
      const { dom, pid } = await bootAndPanic('crash6', 'coredump-destroy');
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(events.lifecycle('crash6'), [[E.CRASHED, 0]]);
      assert.deepEqual(await dom.getState(), { state: S.CRASHED, reason: 1 });
      assert.equal(processAlive(pid), true);
      assert.match(readFileSync(join(root, 'log', 'qemu', 'crash6.log'), 'utf8'), /warning: on_crash 'coredump-destroy': operation failed: Dump failed/);
      await dom.destroy();
      assertNoRuntimeLeft(root, 'crash6');
    } finally {
      rmSync(dumpDir, { force: true });
    }
  });

  test("on_crash='coredump-restart': dumped, then reset and running again", async () => {
    const { dom, guest, id } = await bootAndPanic('crash5', 'coredump-restart');
    await events.wait((e) => e.name === 'crash5' && e.event === E.RESUMED, 120_000);
    assert.deepEqual(events.lifecycle('crash5'), [
      [E.CRASHED, 0],
      [E.RESUMED, 0],
    ]);
    takeDump(id, 'crash5');
    assert.deepEqual(await dom.getState(), { state: S.RUNNING, reason: 9 });
    await guest.waitReady(90_000);
    await dom.destroy();
  });
});

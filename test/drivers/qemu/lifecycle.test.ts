// The QEMU driver with real QEMU (TCG) and the real test guest, on qemu:///embed: define, start,
// state and info, the console, ACPI shutdown, suspend/resume, reboot, reset, destroy, transient
// domains, lifecycle events with libvirt's numbers and order, and start failures that leave
// nothing behind.
import assert from 'node:assert/strict';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { DomainEventType as E, DomainState as S } from '../../../src/drivers/constants.js';
import { guestSkipReason } from '../../helpers/guest.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { assertNoRuntimeLeft, destroyAll, EventLog, openEmbed, processAlive, startWithConsole, statusPid } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason();

describe('QEMU driver lifecycle (embedded, real QEMU and test guest)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-life-${process.pid}-`);
  const root = join(tmp.path, 'root');
  let conn: Connection;
  let events: EventLog;

  before(async () => {
    conn = await openEmbed(root);
    events = await EventLog.attach(conn);
  });
  after(async () => {
    await destroyAll(conn);
    await conn?.close();
    tmp.remove();
  });

  test('define, start, state, info, console, ACPI shutdown: states, reasons and events as libvirt', async () => {
    const dom = await conn.domainDefineXML(guestDomainXML({ name: 'life1', interfaces: ["<interface type='user'><model type='virtio'/></interface>"] }));
    assert.equal(existsSync(join(root, 'etc', 'qemu', 'life1.xml')), true);
    assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 0 });
    await dom.create();
    assert.ok(dom.getID() > 0);
    assert.deepEqual(await dom.getState(), { state: S.RUNNING, reason: 1 /* booted */ });
    // The console opens right away; the guest prints its readiness line seconds later.
    const { GuestConsole } = await import('../../helpers/guest.js');
    const guest = new GuestConsole(await dom.openConsole());
    const nics = await guest.waitReady(90_000);
    assert.equal(nics.size, 1);
    await guest.waitPrompt();
    assert.equal(await guest.run('echo $((6*7))'), '42\n');

    const info = await dom.getInfo();
    assert.equal(info.state, S.RUNNING);
    assert.equal(info.maxMem, 131072);
    assert.equal(info.memory, 131072);
    assert.equal(info.nrVirtCpu, 1);
    assert.ok(info.cpuTime > 0n, 'CPU time from /proc');
    const live = await dom.getXMLDesc();
    assert.match(live, new RegExp(`<domain type='qemu' id='${dom.getID()}'>`));
    assert.match(live, /<alias name='net0'\/>/);
    assert.match(await dom.getXMLDesc(2 /* INACTIVE */), /^<domain type='qemu'>/);

    const pid = statusPid(root, 'life1');
    assert.equal(processAlive(pid), true);
    await dom.shutdown();
    await events.wait((e) => e.name === 'life1' && e.event === E.STOPPED);
    guest.close();
    assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 1 /* shutdown */ });
    assert.equal(processAlive(pid), false);
    assertNoRuntimeLeft(root, 'life1');
    // DEFINED/ADDED; RESUMED/UNPAUSED then STARTED/BOOTED; SHUTDOWN/GUEST then STOPPED/SHUTDOWN.
    assert.deepEqual(events.lifecycle('life1'), [
      [E.DEFINED, 0],
      [E.RESUMED, 0],
      [E.STARTED, 0],
      [E.SHUTDOWN, 1],
      [E.STOPPED, 0],
    ]);
  });

  test('suspend, resume, ACPI reboot, reset, destroy', async () => {
    const dom = await conn.domainDefineXML(guestDomainXML({ name: 'life2' }));
    const guest = await startWithConsole(dom);
    await guest.waitReady(90_000);
    events.clear();

    await dom.suspend();
    assert.deepEqual(await dom.getState(), { state: S.PAUSED, reason: 1 /* user */ });
    await dom.suspend(); // already paused: nothing to do, as libvirt
    await dom.resume();
    assert.deepEqual(await dom.getState(), { state: S.RUNNING, reason: 5 /* unpaused */ });
    assert.deepEqual(events.lifecycle('life2'), [
      [E.SUSPENDED, 0],
      [E.RESUMED, 0],
    ]);

    // ACPI reboot: the guest powers off, the driver resets it and runs it again.
    await guest.waitPrompt();
    await dom.reboot();
    await events.wait((e) => e.name === 'life2' && e.eventId === 1 /* REBOOT */);
    await guest.waitReady(90_000);
    // Still running as before (unpaused): libvirt 9.0 leaves state and reason alone in a reboot.
    assert.deepEqual(await dom.getState(), { state: S.RUNNING, reason: 5 });

    // Each reset is a REBOOT event (QEMU's RESET; a -kernel boot adds one of its own).
    const reboots = events.events.filter((e) => e.name === 'life2' && e.eventId === 1).length;
    await guest.waitPrompt();
    await dom.reset();
    await guest.waitReady(90_000);
    assert.ok(events.events.filter((e) => e.name === 'life2' && e.eventId === 1).length > reboots);

    const pid = statusPid(root, 'life2');
    events.clear();
    await dom.destroy();
    assert.equal(processAlive(pid), false);
    assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 2 /* destroyed */ });
    await events.wait((e) => e.name === 'life2' && e.event === E.STOPPED);
    // SIGTERM makes QEMU say SHUTDOWN (host) first, as libvirt's capture shows: (6,2) then (5,1).
    assert.deepEqual(events.lifecycle('life2'), [
      [E.SHUTDOWN, 2],
      [E.STOPPED, 1],
    ]);
    assertNoRuntimeLeft(root, 'life2');
    guest.close();
    await assert.rejects(dom.destroy(), (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.OPERATION_INVALID);
  });

  test("on_reboot='destroy': a reboot inside the guest stops the domain", async () => {
    const dom = await conn.domainDefineXML(guestDomainXML({ name: 'life4', onReboot: 'destroy' }));
    const guest = await startWithConsole(dom);
    await guest.waitReady(90_000);
    await guest.waitPrompt();
    guest.stream.write('reboot -f\n');
    await events.wait((e) => e.name === 'life4' && e.event === E.STOPPED);
    assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 1 /* shutdown */ });
    assert.deepEqual(events.lifecycle('life4').slice(-2), [
      [E.SHUTDOWN, 1],
      [E.STOPPED, 0],
    ]);
    assertNoRuntimeLeft(root, 'life4');
    guest.close();
  });

  test("on_poweroff='restart': a power-off inside the guest reboots it", async () => {
    const dom = await conn.domainDefineXML(guestDomainXML({ name: 'life5', onPoweroff: 'restart' }));
    const guest = await startWithConsole(dom);
    await guest.waitReady(90_000);
    await guest.waitPrompt();
    guest.stream.write('poweroff -f\n');
    await events.wait((e) => e.name === 'life5' && e.eventId === 1 /* REBOOT */);
    await guest.waitReady(90_000);
    // started paused and resumed: running/unpaused, before and after (libvirt 9.0's states)
    assert.deepEqual(await dom.getState(), { state: S.RUNNING, reason: 5 });
    // No SHUTDOWN or STOPPED went out: the domain never stopped.
    assert.deepEqual(events.lifecycle('life5').filter(([ev]) => ev === E.SHUTDOWN || ev === E.STOPPED), []);
    await dom.destroy();
    guest.close();
  });

  test('createXML runs a transient domain that is gone once stopped', async () => {
    const dom = await conn.domainCreateXML(guestDomainXML({ name: 'life3' }), 1 /* PAUSED */);
    assert.equal(await dom.isPersistent(), false);
    assert.deepEqual(await dom.getState(), { state: S.PAUSED, reason: 1 });
    assert.equal(existsSync(join(root, 'etc', 'qemu', 'life3.xml')), false);
    await dom.destroy();
    await assert.rejects(conn.domainLookupByName('life3'), (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.NO_DOMAIN);
    assertNoRuntimeLeft(root, 'life3');
  });

  test('a start that fails reports why and leaves nothing: missing binary, QEMU refusing a device, QEMU exiting', async () => {
    // The emulator disappears between define and start. (A link: a copy of Debian's QEMU
    // cannot find its modules.)
    const bin = join(tmp.path, 'qemu-link');
    symlinkSync('/usr/bin/qemu-system-x86_64', bin);
    const gone = await conn.domainDefineXML(guestDomainXML({ name: 'fail1', emulator: bin }));
    rmSync(bin);
    await assert.rejects(gone.create(), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.SYSTEM_ERROR);
      assert.match(err.message, new RegExp(`Cannot check QEMU binary ${bin}: No such file or directory`));
      return true;
    });
    assert.deepEqual(await gone.getState(), { state: S.SHUTOFF, reason: 6 /* failed */ });
    assertNoRuntimeLeft(root, 'fail1');

    // A kernel QEMU cannot load: QEMU's own line comes back.
    const badKernel = guestDomainXML({ name: 'fail2' }).replace(/<kernel>[^<]*<\/kernel>/, '<kernel>/nonexistent/vmlinuz</kernel>');
    const d2 = await conn.domainDefineXML(badKernel);
    await assert.rejects(d2.create(), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.INTERNAL_ERROR, err.message);
      assert.match(err.message, /could not open kernel file '\/nonexistent\/vmlinuz'/);
      return true;
    });
    assertNoRuntimeLeft(root, 'fail2');
    assert.deepEqual(await d2.getState(), { state: S.SHUTOFF, reason: 6 });

    // A device QEMU does not know.
    const badDev = guestDomainXML({ name: 'fail3', interfaces: ["<interface type='user'><model type='nosuchnic'/></interface>"] });
    const d3 = await conn.domainDefineXML(badDev);
    await assert.rejects(d3.create(), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.match(err.message, /nosuchnic/);
      return true;
    });
    assertNoRuntimeLeft(root, 'fail3');
    // The failed domains can be started again once fixed: nothing half-done blocks them.
    await d3.undefine();
  });
});

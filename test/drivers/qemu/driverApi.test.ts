// The QEMU driver's API semantics that need no booted guest (domains are started paused): one
// shared state per state directory with events to every connection, definitions and their
// clashes, persistent vs live definitions, undefine of a running domain, autostart, URIs and
// their directories, and errors with libvirt's codes and words.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, ErrorDomain, ErrorNumber, VirtError, open } from '../../../src/api/index.js';
import { parseConnectURI } from '../../../src/drivers/connectUri.js';
import { DomainEventType as E } from '../../../src/drivers/constants.js';
import { openQemuDriver, qemuDirsForURI } from '../../../src/drivers/qemu/index.js';
import { guestSkipReason } from '../../helpers/guest.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { EventLog, assertNoRuntimeLeft, destroyAll, embedURI, openEmbed, statusPid } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason();

function rejectsWith(code: number, message: string | RegExp, domain?: number) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof VirtError, String(err));
    assert.equal(err.code, code, err.message);
    // libvirt reports the domain list's clash checks from its conf code, whatever the driver.
    if (domain !== undefined) assert.equal(err.domain, domain, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

describe('QEMU driver API (embedded, paused starts)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-api-${process.pid}-`);
  const root = join(tmp.path, 'root');
  let a: Connection;
  let b: Connection;
  let eventsA: EventLog;
  let eventsB: EventLog;

  before(async () => {
    a = await openEmbed(root);
    b = await openEmbed(root);
    eventsA = await EventLog.attach(a);
    eventsB = await EventLog.attach(b);
  });
  after(async () => {
    await destroyAll(a);
    await a?.close();
    await b?.close();
    tmp.remove();
  });

  test('connections of one URI share the state; each gets every event', async () => {
    assert.equal(await a.getType(), 'QEMU');
    assert.equal(await a.getURI(), `qemu:///embed?root=${root}`);
    assert.ok((await a.getVersion()) >= 7_000_000);
    const dom = await a.domainDefineXML(guestDomainXML({ name: 'api1' }));
    assert.equal((await b.domainLookupByName('api1')).getUUIDString(), dom.getUUIDString());
    await dom.createWithFlags(1);
    const onB = await b.domainLookupByName('api1');
    assert.equal(onB.getID(), dom.getID());
    await onB.destroy();
    await eventsA.wait((e) => e.name === 'api1' && e.event === E.STOPPED);
    await eventsB.wait((e) => e.name === 'api1' && e.event === E.STOPPED);
    assert.deepEqual(eventsA.lifecycle('api1'), eventsB.lifecycle('api1'));
    assert.deepEqual(eventsA.lifecycle('api1'), [
      [E.DEFINED, 0],
      [E.STARTED, 0],
      [E.SUSPENDED, 0],
      [E.SHUTDOWN, 2],
      [E.STOPPED, 1],
    ]);
    // Closing one connection leaves the other working, and stops its events.
    const c = await openEmbed(root);
    await c.close();
    assert.equal((await a.listAllDomains()).length >= 1, true);
  });

  test('definitions: config file, clashes of name and UUID, redefine, lookups', async () => {
    const uuid = '5f0c5a1e-0000-4000-8000-000000000001';
    const dom = await a.domainDefineXML(guestDomainXML({ name: 'api2', uuid }));
    await eventsA.wait((e) => e.name === 'api2' && e.event === E.DEFINED);
    assert.match(readFileSync(join(root, 'etc', 'qemu', 'api2.xml'), 'utf8'), new RegExp(`<uuid>${uuid}</uuid>`));
    await assert.rejects(
      a.domainDefineXML(guestDomainXML({ name: 'api2-other', uuid })),
      rejectsWith(ErrorNumber.OPERATION_FAILED, `operation failed: domain 'api2' is already defined with uuid ${uuid}`, ErrorDomain.DOMAIN),
    );
    await assert.rejects(
      a.domainDefineXML(guestDomainXML({ name: 'api2' })),
      rejectsWith(ErrorNumber.OPERATION_FAILED, `operation failed: domain 'api2' already exists with uuid ${uuid}`, ErrorDomain.DOMAIN),
    );
    await assert.rejects(
      a.domainDefineXML(guestDomainXML({ name: 'api2\nx' })),
      (e: unknown) => e instanceof VirtError && e.code === ErrorNumber.XML_DETAIL && e.message === 'invalid char in name: \n',
    );
    assert.equal(existsSync(join(root, 'etc', 'qemu', 'api2\nx.xml')), false);
    eventsA.clear();
    await a.domainDefineXML(guestDomainXML({ name: 'api2', uuid, memoryMiB: 96 }));
    await eventsA.wait((e) => e.name === 'api2' && e.event === E.DEFINED);
    assert.deepEqual(eventsA.lifecycle('api2'), [[E.DEFINED, 1 /* UPDATED */]]);
    assert.equal((await dom.getInfo()).maxMem, 96 * 1024);
    await assert.rejects(a.domainLookupByName('nosuch'), rejectsWith(ErrorNumber.NO_DOMAIN, "Domain not found: no domain with matching name 'nosuch'"));
    await assert.rejects(a.domainLookupByID(4242), rejectsWith(ErrorNumber.NO_DOMAIN, 'Domain not found: no domain with matching id 4242'));
    await assert.rejects(a.domainDefineXML('<domain type="qemu"><name>x</name>'), (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.XML_DETAIL);
    await assert.rejects(dom.resume(), rejectsWith(ErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: domain is not running'));
  });

  test('running: live and persistent definitions apart; undefine makes it transient; createXML', async () => {
    const dom = await a.domainLookupByName('api2');
    await dom.createWithFlags(1);
    await assert.rejects(dom.create(), rejectsWith(ErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: domain is already running'));
    // A new definition while running waits for the next start.
    await a.domainDefineXML(guestDomainXML({ name: 'api2', uuid: dom.getUUIDString(), memoryMiB: 64 }));
    assert.match(await dom.getXMLDesc(), /<memory unit='KiB'>98304<\/memory>/);
    assert.match(await dom.getXMLDesc(2), /<memory unit='KiB'>65536<\/memory>/);
    await dom.undefine();
    assert.equal(await dom.isPersistent(), false);
    assert.equal(existsSync(join(root, 'etc', 'qemu', 'api2.xml')), false);
    // virDomainObjUpdateModificationImpact / virDomainObjGetOneDef: libvirt's words, from its
    // domain conf code (error domain DOMAIN), the same for every call that takes these flags.
    const transientConfig = 'Requested operation is not valid: transient domains do not have any persistent config';
    const nic = "<interface type='ethernet'><mac address='52:54:00:0a:0b:0c'/><model type='virtio'/></interface>";
    await assert.rejects(dom.attachDeviceFlags(nic, 2 /* CONFIG */), rejectsWith(ErrorNumber.OPERATION_INVALID, transientConfig));
    await assert.rejects(dom.getVcpusFlags(2 /* CONFIG */), rejectsWith(ErrorNumber.OPERATION_INVALID, transientConfig));
    await assert.rejects(dom.getVcpusFlags(3 /* LIVE|CONFIG */), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.INVALID_ARG);
      assert.equal(err.domain, ErrorDomain.DOMAIN);
      assert.equal(err.message, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
      return true;
    });
    await dom.destroy();
    await assert.rejects(a.domainLookupByName('api2'), rejectsWith(ErrorNumber.NO_DOMAIN, /no domain with matching name 'api2'/));

    // createXML over a defined, shut-off domain runs the new definition; the old one comes back.
    const persistent = await a.domainDefineXML(guestDomainXML({ name: 'api3', memoryMiB: 64 }));
    const running = await a.domainCreateXML(guestDomainXML({ name: 'api3', uuid: persistent.getUUIDString(), memoryMiB: 80 }), 1);
    assert.equal(await running.isPersistent(), true);
    assert.equal((await running.getInfo()).maxMem, 80 * 1024);
    await assert.rejects(
      a.domainCreateXML(guestDomainXML({ name: 'api3', uuid: persistent.getUUIDString() }), 1),
      rejectsWith(ErrorNumber.OPERATION_INVALID, "Requested operation is not valid: domain 'api3' is already active"),
    );
    await running.destroy();
    assert.equal((await persistent.getInfo()).maxMem, 64 * 1024);
  });

  test('a QEMU killed from outside: STOPPED/failed at once, state crashed, nothing left', async () => {
    const dom = await a.domainDefineXML(guestDomainXML({ name: 'api5' }));
    await dom.createWithFlags(1);
    const pid = statusPid(root, 'api5');
    await eventsA.wait((e) => e.name === 'api5' && e.event === E.SUSPENDED);
    eventsA.clear();
    process.kill(pid, 'SIGKILL');
    await eventsA.wait((e) => e.name === 'api5' && e.event === E.STOPPED);
    assert.deepEqual(eventsA.lifecycle('api5'), [[E.STOPPED, 5 /* FAILED */]]);
    assert.deepEqual(await dom.getState(), { state: 5, reason: 3 /* crashed */ });
    assertNoRuntimeLeft(root, 'api5');
  });

  test('undefine whose config file cannot be removed: a VirtError naming it, the domain still defined', async () => {
    const dom = await a.domainDefineXML(guestDomainXML({ name: 'api8' }));
    const config = join(root, 'etc', 'qemu', 'api8.xml');
    const saved = readFileSync(config);
    rmSync(config);
    mkdirSync(join(config, 'x'), { recursive: true });
    try {
      await assert.rejects(dom.undefine(), (err: unknown) => {
        assert.ok(err instanceof VirtError, `not a VirtError: ${String(err)}`);
        assert.equal(err.code, ErrorNumber.SYSTEM_ERROR);
        assert.match(err.message, new RegExp(`^cannot remove config ${config}: `));
        return true;
      });
      assert.equal(await dom.isPersistent(), true);
    } finally {
      rmSync(config, { recursive: true, force: true });
      writeFileSync(config, saved);
    }
    await dom.undefine();
    assert.equal(existsSync(config), false);
  });

  test('update-device that cannot apply a bandwidth changes nothing, not even the link state', async () => {
    const mac = '52:54:00:0a:0b:0d';
    const nic = (extra: string): string => `<interface type='user'><mac address='${mac}'/><model type='virtio'/>${extra}</interface>`;
    const dom = await a.domainCreateXML(guestDomainXML({ name: 'api9', interfaces: [nic('')] }), 1);
    await assert.rejects(
      dom.updateDeviceFlags(nic("<link state='down'/><bandwidth><inbound average='1000'/></bandwidth>"), 1 /* LIVE */),
      rejectsWith(ErrorNumber.OPERATION_UNSUPPORTED, "Operation not supported: cannot change bandwidth of interface type 'user'"),
    );
    const xml = await dom.getXMLDesc();
    assert.doesNotMatch(xml, /<link state='down'\/>/);
    assert.doesNotMatch(xml, /<bandwidth>/);
    await dom.destroy();
  });

  test('a QEMU that dies while a job holds the domain is torn down once the job ends', async () => {
    const dom = await a.domainDefineXML(guestDomainXML({ name: 'api7' }));
    await dom.createWithFlags(1);
    const pid = statusPid(root, 'api7');
    // The same state as `a`: hold the domain's job as a slow operation would.
    const driver = await openQemuDriver(parseConnectURI(embedURI(root)));
    try {
      const obj = driver.state.lookup(await driver.domainLookupByName('api7'));
      eventsA.clear();
      await obj.job.run('slow operation', async () => {
        process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 300));
      });
      await eventsA.wait((e) => e.name === 'api7' && e.event === E.STOPPED);
      assert.deepEqual(await dom.getState(), { state: 5, reason: 3 /* crashed */ });
      assertNoRuntimeLeft(root, 'api7');
    } finally {
      await driver.close();
    }
  });

  test('a status file that cannot be written: the call fails with a VirtError, no promise is left rejected', async () => {
    const dom = await a.domainDefineXML(guestDomainXML({ name: 'api6' }));
    await dom.createWithFlags(1);
    const status = join(root, 'run', 'qemu', 'api6.xml');
    const saved = readFileSync(status);
    // A non-empty directory where the status file goes: the atomic rename onto it fails.
    rmSync(status);
    mkdirSync(join(status, 'x'), { recursive: true });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // RESUME's handler saves the status in the background; resume itself waits for its own save.
      await assert.rejects(dom.resume(), (err: unknown) => {
        assert.ok(err instanceof VirtError, `not a VirtError: ${String(err)}`);
        assert.equal(err.code, ErrorNumber.SYSTEM_ERROR);
        assert.match(err.message, /status/);
        return true;
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      rmSync(status, { recursive: true, force: true });
      writeFileSync(status, saved);
    }
    await dom.destroy();
    assertNoRuntimeLeft(root, 'api6');
  });

  test('autostart: a link in the autostart directory; started when a fresh process opens the state', async () => {
    const dom = await a.domainLookupByName('api3');
    await dom.setAutostart(true);
    assert.equal(await dom.getAutostart(), true);
    const link = join(root, 'etc', 'qemu', 'autostart', 'api3.xml');
    assert.equal(lstatSync(link).isSymbolicLink(), true);
    await dom.setAutostart(false);
    assert.equal(existsSync(link), false);
    await dom.setAutostart(true);
    const transient = await a.domainCreateXML(guestDomainXML({ name: 'api4' }), 1);
    await assert.rejects(transient.setAutostart(true), rejectsWith(ErrorNumber.OPERATION_INVALID, /cannot set autostart for transient domain/));
    await transient.destroy();
  });

  test('URIs: directories per mode; bad URIs refused as libvirt', async () => {
    const sys = qemuDirsForURI(parseConnectURI('qemu:///system'), {}, 0);
    assert.deepEqual([sys.configDir, sys.runDir, sys.libDir, sys.logDir], ['/etc/tsvirt', '/run/tsvirt', '/var/lib/tsvirt', '/var/log/tsvirt']);
    const ses = qemuDirsForURI(parseConnectURI('qemu:///session'), { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' }, 1000);
    assert.deepEqual([ses.configDir, ses.runDir, ses.libDir], ['/home/u/.config/tsvirt', '/run/user/1000/tsvirt', '/home/u/.local/share/tsvirt']);
    const emb = qemuDirsForURI(parseConnectURI('qemu:///embed?root=/x/y'));
    assert.deepEqual([emb.configDir, emb.runDir, emb.libDir, emb.logDir], ['/x/y/etc', '/x/y/run', '/x/y/lib', '/x/y/log']);
    await assert.rejects(open('qemu:///embed'), rejectsWith(ErrorNumber.INVALID_ARG, "invalid argument: Missing URI parameter 'root'"));
    await assert.rejects(open('qemu:///nosuch'), rejectsWith(ErrorNumber.INTERNAL_ERROR, /unexpected QEMU URI path '\/nosuch'/));
    assert.throws(() => qemuDirsForURI(parseConnectURI('qemu:///system'), {}, 1000), rejectsWith(ErrorNumber.INTERNAL_ERROR, /try qemu:\/\/\/session/));
  });
});

describe('autostart on open', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-auto-${process.pid}-`);
  after(() => tmp.remove());

  test('a domain marked autostart runs once a process opens the state the first time', async () => {
    const root = join(tmp.path, 'root');
    const first = await openEmbed(root);
    const dom = await first.domainDefineXML(guestDomainXML({ name: 'auto1' }));
    await dom.setAutostart(true);
    await first.close();
    // The marker of this "boot" was written at the first open; a fresh state directory's run
    // directory is what a reboot gives: remove the marker to stand for it.
    const { rmSync } = await import('node:fs');
    rmSync(join(root, 'run', 'qemu', 'autostarted'));
    const second = await open(embedURI(root));
    try {
      const d = await second.domainLookupByName('auto1');
      assert.equal(await d.isActive(), true);
      await d.destroy();
    } finally {
      await destroyAll(second);
      await second.close();
    }
    // Not again in the same boot.
    const third = await open(embedURI(root));
    assert.equal(await (await third.domainLookupByName('auto1')).isActive(), false);
    await third.close();
  });
});

// <serial type='pty'> / <console type='pty'> as libvirt runs them: QEMU creates a host pty
// (-chardev pty), the driver reads its path from query-chardev into the live XML (<source
// path='/dev/pts/N'/>, <console tty=…>), and dom.openConsole() opens that pty's slave side. The
// test guest's readiness line and shell come through it; one session at a time (libvirt's
// error, FORCE takes over); the console still opens after the driver let go and came back.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { GuestConsole, guestSkipReason } from '../../helpers/guest.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { destroyAll, openEmbed, processAlive, statusPid } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason();

describe('pty consoles (real QEMU, test guest)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-polish-pty-${process.pid}-`);
  const root = join(tmp.path, 'root');
  let conn: Connection;
  const consoles: GuestConsole[] = [];

  before(async () => {
    conn = await openEmbed(root);
  });
  after(async () => {
    for (const c of consoles) c.close();
    await destroyAll(conn);
    await conn?.close();
    tmp.remove();
  });

  test('the live XML names the pty QEMU made; a console session on it reaches the guest', async () => {
    const dom = await conn.domainDefineXML(guestDomainXML({ name: 'pty1' }));
    await dom.createWithFlags(1 /* PAUSED */);
    const live = await dom.getXMLDesc();
    const serial = /<serial type='pty'>\s*<source path='(\/dev\/pts\/\d+)'\/>/.exec(live);
    assert.ok(serial, `the serial's pty in the live XML: ${live}`);
    const pts = serial[1]!;
    // console 0 is serial 0: same pty, also as the legacy tty= attribute (libvirt's live XML)
    assert.match(live, new RegExp(`<console type='pty' tty='${pts}'>\\s*<source path='${pts}'/>\\s*<target type='serial' port='0'/>\\s*<alias name='serial0'/>`));
    // QEMU says the same in its log, and it is a pty slave (Unix98 ptys: majors 136–143)
    const log = readFileSync(join(root, 'log', 'qemu', 'pty1.log'), 'utf8');
    assert.match(log, new RegExp(`char device redirected to ${pts} \\(label charserial0\\)`));
    const st = statSync(pts);
    const major = Math.floor(st.rdev / 256) & 0xfff;
    assert.ok(st.isCharacterDevice() && major >= 136 && major <= 143, `${pts} is a pty slave (major ${major})`);
    // the inactive XML has no path (a pty is made at each start)
    assert.doesNotMatch(await dom.getXMLDesc(2), /\/dev\/pts/);

    const guest = new GuestConsole(await dom.openConsole());
    consoles.push(guest);
    await dom.resume();
    await guest.waitReady(90_000);
    await guest.waitPrompt();
    // bytes pass unchanged both ways: no echo or CR/LF mangling by the host's line discipline
    assert.equal(await guest.run('printf "a\\tb\\n"; echo $((6*7))'), 'a\tb\n42\n');
  });

  test("one session at a time: libvirt's error, FORCE takes over; devName and a console that is not a pty", async () => {
    const dom = await conn.domainLookupByName('pty1');
    const first = consoles[0]!;
    await assert.rejects(dom.openConsole(), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.OPERATION_FAILED);
      assert.equal(err.message, 'operation failed: Active console session exists for this domain');
      return true;
    });
    const ended = new Promise<void>((resolve) => first.stream.once('close', () => resolve()));
    const second = new GuestConsole(await dom.openConsole('serial0', 1 /* FORCE */));
    consoles.push(second);
    await ended;
    assert.equal(await second.run('echo forced'), 'forced\n');
    await assert.rejects(dom.openConsole('nosuch'), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.INTERNAL_ERROR);
      assert.equal(err.message, 'internal error: cannot find character device nosuch');
      return true;
    });
    second.close();
    // a serial on a file has no session to open (libvirt's error)
    const fileDom = await conn.domainCreateXML(
      guestDomainXML({ name: 'pty2' }).replace("<serial type='pty'/>\n    <console type='pty'/>", `<serial type='file'><source path='${join(tmp.path, 'serial.log')}'/></serial>`),
      1,
    );
    await assert.rejects(fileDom.openConsole(), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.INTERNAL_ERROR);
      assert.equal(err.message, 'internal error: character device serial0 is not using a PTY');
      return true;
    });
    await fileDom.destroy();
  });

  test('after the driver let go and came back, the console opens on the same pty', async () => {
    const pid = statusPid(root, 'pty1');
    const before = await (await conn.domainLookupByName('pty1')).getXMLDesc();
    await conn.close();
    assert.equal(processAlive(pid), true, 'QEMU kept running');
    conn = await openEmbed(root);
    const dom = await conn.domainLookupByName('pty1');
    assert.equal(await dom.getXMLDesc(), before);
    const guest = new GuestConsole(await dom.openConsole());
    consoles.push(guest);
    assert.equal(await guest.run('echo back'), 'back\n');
    await dom.destroy();
  });
});

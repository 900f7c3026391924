// A restarted tsvirtd loses no guest: a real guest (the test guest, TCG) started through tsvirtd
// keeps running when the daemon gets SIGTERM; the next tsvirtd on the same state reattaches it,
// and it is controllable (console, suspend/resume, destroy) with its events flowing to a client.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { open } from '../../src/api/index.js';
import type { Connection, Domain } from '../../src/api/connection.js';
import { GuestConsole, guestCmdline, guestInitrd, guestKernel, guestSkipReason } from '../helpers/guest.js';
import { hasCommand, isRoot } from '../helpers/system.js';
import { startTsvirtd, type RunningTsvirtd } from './tsvirtd.js';

const skip = !isRoot ? 'needs root' : guestSkipReason() || (hasCommand('qemu-system-x86_64') ? false : 'needs qemu');

/** Pids of the QEMU processes running guest `name`. */
function qemuPids(name: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('qemu-system') && argv.some((a) => a.startsWith(`guest=${name},`) || a === `guest=${name}`)) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('SIGTERM leaves guests running; the next tsvirtd reattaches them', { skip }, () => {
  let d: RunningTsvirtd;
  let conn: Connection | null = null;
  const name = `daemon-keep-${process.pid}`;
  before(async () => {
    d = await startTsvirtd({ tag: 'keep' });
  });
  after(async () => {
    try {
      const c = conn ?? (await open(d.uri('qemu', '/system')));
      const dom = await c.domainLookupByName(name).catch(() => null);
      if (dom && (await dom.isActive())) await dom.destroy();
      if (dom) await dom.undefine().catch(() => {});
      await c.close();
    } catch {
      // the daemon is gone: kill what is left below
    }
    for (const pid of qemuPids(name)) process.kill(pid, 'SIGKILL');
    await d?.stop();
  });

  test('start, SIGTERM, restart: the same guest is running, answers on its console, and its events flow', { timeout: 240000 }, async () => {
    conn = await open(d.uri('qemu', '/system'));
    const dom = await conn.domainDefineXML(`<domain type='qemu'>
  <name>${name}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guestKernel}</kernel><initrd>${guestInitrd}</initrd><cmdline>${guestCmdline}</cmdline></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='pty'/>
  </devices>
</domain>`);
    await dom.create();
    const id = dom.id;
    assert.ok(id > 0);
    const con = new GuestConsole(await dom.openConsole(null, 0));
    await con.waitReady(120000);
    const pids = qemuPids(name);
    assert.equal(pids.length, 1);
    con.stream.destroy();
    await conn.close();
    conn = null;

    const exit = await d.kill('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.deepEqual(qemuPids(name), pids, 'QEMU kept running');

    await d.restart();
    conn = await open(d.uri('qemu', '/system'));
    const again: Domain = await conn.domainLookupByName(name);
    assert.equal(again.id, id);
    assert.deepEqual(await again.getState(), { state: 1, reason: 1 });
    assert.deepEqual(qemuPids(name), pids, 'the same QEMU');

    const events: string[] = [];
    await conn.domainEventRegisterAny(again, 0, (ev) => {
      if (ev.eventId === 0) events.push(`${ev.event}:${ev.detail}`);
    });
    // Controllable: the console answers, suspend/resume and destroy work, events arrive.
    const con2 = new GuestConsole(await again.openConsole(null, 0));
    con2.stream.write('\n');
    await con2.waitPrompt(60000);
    assert.match(await con2.run('echo reattached-$((6*7))'), /reattached-42/);
    con2.stream.destroy();
    await again.suspend();
    assert.equal((await again.getState()).state, 3);
    await again.resume();
    await again.destroy();
    const end = Date.now() + 10000;
    while (events.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    // destroy: SHUTDOWN (host), then STOPPED (destroyed), as libvirt sends them.
    assert.deepEqual(events, ['3:0', '4:0', '6:2', '5:1']);
    assert.deepEqual(qemuPids(name), []);
    await again.undefine();
  });
});

// Guests outlive the process that started them: a child process starts three guests on
// qemu:///embed and is killed with SIGKILL; the next open of the same URI finds all three
// running (same QEMU processes, none killed) and controls them. A guest that died while no
// driver watched is cleaned up on open and its STOPPED event sent. Two processes never manage
// one state directory at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorNumber, VirtError } from '../../../src/api/index.js';
import { DomainEventType as E, DomainState as S } from '../../../src/drivers/constants.js';
import { GuestConsole, guestSkipReason } from '../../helpers/guest.js';
import { projectRoot, skipUnless, tempDir } from '../../helpers/system.js';
import { EventLog, assertNoRuntimeLeft, destroyAll, openEmbed, processAlive, statusPid } from './driverHarness.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason();
const child = join(projectRoot, 'dist/test/drivers/qemu/startGuestsChild.js');

/** Runs the child until it has started the guests; resolves with it still running. */
function startChild(root: string, names: string[]): Promise<{ pid: number; kill(): Promise<void>; ids: Map<string, number> }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child], {
      env: { ...process.env, TSVIRT_CHILD_ROOT: root, TSVIRT_CHILD_NAMES: names.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /STARTED (.*)\n/.exec(out);
      if (m) {
        const ids = new Map(m[1]!.split(' ').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])]));
        resolve({
          pid: p.pid!,
          ids,
          kill: () =>
            new Promise((res) => {
              p.once('exit', () => res());
              p.kill('SIGKILL');
            }),
        });
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => reject(new Error(`child exited (${code}) before starting the guests: ${err}`)));
  });
}

describe('reattach after the managing process dies', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-reattach-${process.pid}-`);
  after(() => tmp.remove());

  test('kill -9 of the process that started 3 guests: the next open finds 3 running and controllable', async () => {
    const root = join(tmp.path, 'r1');
    const names = ['ra', 'rb', 'rc'];
    const c = await startChild(root, names);
    const pids = new Map(names.map((n) => [n, statusPid(root, n)]));

    // While the child holds the state, a second manager is refused, naming the holder.
    await assert.rejects(openEmbed(root), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.OPERATION_FAILED);
      assert.match(err.message, new RegExp(`in use by process ${c.pid}`));
      return true;
    });

    await c.kill();
    for (const [n, pid] of pids) assert.equal(processAlive(pid), true, `${n}'s QEMU survived its manager`);

    const conn = await openEmbed(root);
    try {
      const events = await EventLog.attach(conn);
      const running = await conn.listAllDomains(16 /* RUNNING */);
      assert.deepEqual(running.map((d) => d.getName()).sort(), names);
      for (const n of names) {
        const dom = await conn.domainLookupByName(n);
        assert.equal(dom.getID(), c.ids.get(n), 'same id as before');
        assert.deepEqual(await dom.getState(), { state: S.RUNNING, reason: 1 });
        assert.equal(statusPid(root, n), pids.get(n), 'the same QEMU, not a new one');
      }
      // Controllable: the monitor answers (suspend/resume), the console works, destroy stops it.
      const ra = await conn.domainLookupByName('ra');
      await ra.suspend();
      assert.deepEqual(await ra.getState(), { state: S.PAUSED, reason: 1 });
      await ra.resume();
      const g = new GuestConsole(await ra.openConsole());
      g.stream.write('\n');
      await g.waitPrompt(90_000);
      assert.equal(await g.run('echo $((6*7))'), '42\n');
      g.close();
      // Not our child any more: its exit is seen through the monitor's hangup and a pidfd.
      const rb = await conn.domainLookupByName('rb');
      const gb = new GuestConsole(await rb.openConsole());
      gb.stream.write('\n');
      await gb.waitPrompt(90_000);
      await rb.shutdown();
      await events.wait((e) => e.name === 'rb' && e.event === E.STOPPED);
      assert.deepEqual(events.lifecycle('rb'), [
        [E.SHUTDOWN, 1],
        [E.STOPPED, 0],
      ]);
      assert.equal(processAlive(pids.get('rb')!), false);
      assertNoRuntimeLeft(root, 'rb');
      for (const n of ['ra', 'rc']) {
        const dom = await conn.domainLookupByName(n);
        await dom.destroy();
        assert.equal(processAlive(pids.get(n)!), false);
        assertNoRuntimeLeft(root, n);
      }
      await events.wait((e) => e.name === 'rc' && e.event === E.STOPPED);
      assert.deepEqual(events.lifecycle('rc'), [
        [E.SHUTDOWN, 2],
        [E.STOPPED, 1],
      ]);
    } finally {
      await destroyAll(conn);
      await conn.close();
    }
  });

  test('a guest that died while no driver watched is cleaned up on open, with its STOPPED event', async () => {
    const root = join(tmp.path, 'r2');
    const c = await startChild(root, ['rd']);
    const pid = statusPid(root, 'rd');
    await c.kill();
    process.kill(pid, 'SIGKILL');
    while (processAlive(pid)) await new Promise((r) => setTimeout(r, 20));

    // The cleanup runs while the state opens, before any connection can listen; the domain's log
    // records it.
    const conn = await openEmbed(root);
    try {
      const dom = await conn.domainLookupByName('rd');
      assert.deepEqual(await dom.getState(), { state: S.SHUTOFF, reason: 3 /* crashed */ });
      assertNoRuntimeLeft(root, 'rd');
      assert.match(readFileSync(join(root, 'log', 'qemu', 'rd.log'), 'utf8'), /shutting down, reason=crashed\n$/);
      // It can be started again.
      await dom.createWithFlags(1);
      assert.deepEqual(await dom.getState(), { state: S.PAUSED, reason: 1 });
      await dom.destroy();
    } finally {
      await conn.close();
    }
  });
});

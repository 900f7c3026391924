import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { QemuProcess, qemuStartError, readProcessIdentity } from '../../../src/drivers/qemu/qemuProcess.js';
import { QmpClient } from '../../../src/drivers/qemu/qmp.js';
import { skipUnless, tempDir } from '../../helpers/system.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] });

function bareArgs(sock: string, extra: string[] = []): string[] {
  return ['-machine', 'none', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-qmp', `unix:${sock},server=on,wait=off`, ...extra];
}

/**
 * A bare QEMU started the way a previous daemon would have left it: not our child (the shell
 * that starts it exits at once, so QEMU is re-parented). Its pid.
 */
async function startOrphanQemu(sock: string): Promise<number> {
  const sh = spawn('sh', ['-c', `qemu-system-x86_64 ${bareArgs(sock).join(' ')} >/dev/null 2>&1 </dev/null & echo $!`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  sh.stdout.on('data', (d) => (out += d));
  await new Promise((r) => sh.on('close', r));
  return Number(out.trim());
}

/**
 * Spawns a bare QEMU and waits until its monitor answers: only from then on has QEMU its own
 * SIGTERM handler (an earlier SIGTERM kills it by the default action, even when stopped).
 */
async function spawnReady(dir: string, name: string): Promise<QemuProcess> {
  const sock = join(dir, `${name}.qmp`);
  const proc = await QemuProcess.spawn({ binary: 'qemu-system-x86_64', args: bareArgs(sock), logFile: join(dir, `${name}.log`) });
  (await QmpClient.connect(sock)).close();
  return proc;
}

describe('QEMU processes', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-base-proc-${process.pid}-`);
  after(() => tmp.remove());

  test('spawn writes a log header with the command line, then QEMU output; identity is pid + start time', async () => {
    const sock = join(tmp.path, 'a.qmp');
    const logFile = join(tmp.path, 'a.log');
    const proc = await QemuProcess.spawn({ binary: 'qemu-system-x86_64', args: bareArgs(sock, ['-name', 'guest=a b']), logFile });
    (await QmpClient.connect(sock)).close();
    try {
      assert.equal(proc.isChild, true);
      const id = readProcessIdentity(proc.pid);
      assert.deepEqual(id, proc.identity);
      assert.ok(proc.startTime > 0);
      const log = readFileSync(logFile, 'utf8');
      assert.match(log, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: starting up tsvirt, qemu binary: qemu-system-x86_64/);
      assert.match(log, /\nLC_ALL=C \\\n/);
      assert.match(log, /\nqemu-system-x86_64 \\\n-machine none \\\n-accel tcg \\\n-nodefaults \\\n/);
      assert.match(log, /\n-name 'guest=a b'\n/);
      assert.equal(proc.logStart, Buffer.byteLength(log));
    } finally {
      const exit = await proc.kill();
      // QEMU exits by itself on SIGTERM, cleanly.
      assert.deepEqual(exit, { code: 0, signal: null });
    }
    assert.equal(proc.running, false);
    assert.equal(readProcessIdentity(proc.pid), null);
    assert.match(await proc.readLog(), /terminating on signal 15/);
  });

  test('a QEMU that will not die on SIGTERM is killed after the grace period', async () => {
    const proc = await spawnReady(tmp.path, 'b');
    // A stopped process keeps SIGTERM pending; only SIGKILL ends it.
    proc.signal('SIGSTOP');
    const t0 = Date.now();
    const exit = await proc.kill({ graceMs: 300 });
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    assert.ok(Date.now() - t0 >= 290);
  });

  test('graceful kill fails with EBUSY instead of SIGKILL, and leaves QEMU running', async () => {
    const proc = await spawnReady(tmp.path, 'c');
    proc.signal('SIGSTOP');
    await assert.rejects(proc.kill({ graceMs: 200, graceful: true }), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.SYSTEM_ERROR);
      assert.equal(err.message, `Failed to terminate process ${proc.pid} with SIGTERM: Device or resource busy`);
      return true;
    });
    assert.equal(proc.running, true);
    // Once it runs again, the pending SIGTERM ends it.
    proc.signal('SIGCONT');
    assert.deepEqual(await proc.exited, { code: 0, signal: null });
  });

  test('a QEMU that fails at start: exit code, and its own error line from the log', async () => {
    const proc = await QemuProcess.spawn({
      binary: 'qemu-system-x86_64',
      args: bareArgs(join(tmp.path, 'd.qmp'), ['-device', 'no-such-device']),
      logFile: join(tmp.path, 'd.log'),
    });
    assert.deepEqual(await proc.exited, { code: 1, signal: null });
    const err = qemuStartError('d', await proc.readLog(), false);
    assert.equal(err.code, ErrorNumber.INTERNAL_ERROR);
    assert.equal(
      err.message,
      "internal error: process exited while connecting to monitor: qemu-system-x86_64: -device no-such-device: 'no-such-device' is not a valid device model name",
    );
  });

  test('a binary that does not exist is a system error naming it', async () => {
    await assert.rejects(
      QemuProcess.spawn({ binary: join(tmp.path, 'no-qemu'), args: [], logFile: join(tmp.path, 'e.log') }),
      (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.SYSTEM_ERROR && /no-qemu: No such file or directory$/.test(err.message),
    );
  });

  test('descriptors reach QEMU at the numbers chosen', async () => {
    const sock = join(tmp.path, 'f.qmp');
    const fd = openSync(join(tmp.path, 'f.data'), 'w');
    const proc = await QemuProcess.spawn({
      binary: 'qemu-system-x86_64',
      // add-fd takes a descriptor QEMU already holds: fd 7 in QEMU is our file.
      args: bareArgs(sock, ['-add-fd', 'fd=7,set=3,opaque=ours']),
      logFile: join(tmp.path, 'f.log'),
      fds: new Map([[7, fd]]),
    });
    closeSync(fd);
    const qmp = await QmpClient.connect(sock);
    try {
      const sets = await qmp.execute<{ 'fdset-id': number; fds: { fd: number; opaque?: string }[] }[]>('query-fdsets');
      assert.equal(sets.length, 1);
      assert.equal(sets[0]!['fdset-id'], 3);
      assert.equal(sets[0]!.fds[0]!.opaque, 'ours');
    } finally {
      qmp.close();
      await proc.kill();
    }
  });

  test('attach finds a QEMU started by another process, sees it die, and refuses a stale identity', async () => {
    const sock = join(tmp.path, 'g.qmp');
    const pid = await startOrphanQemu(sock);
    const qmp = await QmpClient.connect(sock, { timeoutMs: 10_000 });
    const id = readProcessIdentity(pid);
    assert.ok(id);
    assert.equal(await QemuProcess.attach({ pid, startTime: id.startTime + 1 }), null);
    const proc = await QemuProcess.attach(id);
    assert.ok(proc);
    assert.equal(proc.isChild, false);
    qmp.on('close', () => proc.noticeHangup());
    const exited = new Promise((r) => proc.once('exit', r));
    // Killed by someone else: the monitor hangs up, the pidfd confirms the exit.
    process.kill(pid, 'SIGKILL');
    assert.deepEqual(await exited, { code: null, signal: null });
    assert.equal(proc.running, false);
    assert.equal(await QemuProcess.attach(id), null);
  });

  test('kill() stops a QEMU that is not our child, through its pidfd', async () => {
    const sock = join(tmp.path, 'h.qmp');
    const pid = await startOrphanQemu(sock);
    (await QmpClient.connect(sock, { timeoutMs: 10_000 })).close();
    const proc = await QemuProcess.attach(readProcessIdentity(pid)!);
    assert.ok(proc);
    await proc.kill({ graceMs: 5000 });
    assert.equal(proc.running, false);
    assert.equal(readProcessIdentity(pid), null);
  });
});

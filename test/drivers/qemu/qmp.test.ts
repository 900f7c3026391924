import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorDomain, ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { QemuProcess } from '../../../src/drivers/qemu/qemuProcess.js';
import { QmpClient, type QmpEvent, isQmpErrorClass } from '../../../src/drivers/qemu/qmp.js';
import { skipUnless, tempDir } from '../../helpers/system.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] });

/** A QEMU with no machine (starts in ~50 ms), QMP on a socket in dir. */
async function startBareQemu(dir: string, name: string): Promise<{ proc: QemuProcess; sock: string }> {
  const sock = join(dir, `${name}.qmp`);
  const proc = await QemuProcess.spawn({
    binary: 'qemu-system-x86_64',
    args: ['-machine', 'none', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-qmp', `unix:${sock},server=on,wait=off`],
    logFile: join(dir, `${name}.log`),
  });
  return { proc, sock };
}

describe('QMP client against a real QEMU', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-base-qmp-${process.pid}-`);
  let proc: QemuProcess;
  let qmp: QmpClient;

  before(async () => {
    const q = await startBareQemu(tmp.path, 'main');
    proc = q.proc;
    qmp = await QmpClient.connect(q.sock, { vmName: 'main' });
  });
  after(async () => {
    qmp?.close();
    await proc?.kill();
    tmp.remove();
  });

  test('negotiates: greeting carries the version, commands work after qmp_capabilities', async () => {
    assert.equal(qmp.greeting.version.qemu.major >= 7, true);
    const v = await qmp.execute<{ qemu: { major: number; minor: number } }>('query-version');
    assert.deepEqual(v.qemu, qmp.greeting.version.qemu);
  });

  test('many commands in flight each get their own reply', async () => {
    const names = ['query-version', 'query-status', 'query-kvm', 'query-target', 'query-name'];
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => qmp.execute<Record<string, unknown>>(names[i % names.length]!)));
    replies.forEach((r, i) => {
      const name = names[i % names.length];
      if (name === 'query-version') assert.ok('qemu' in r);
      if (name === 'query-status') assert.ok('status' in r);
      if (name === 'query-kvm') assert.ok('present' in r);
      if (name === 'query-target') assert.equal(r.arch, 'x86_64');
      if (name === 'query-name') assert.ok(!('status' in r));
    });
  });

  test('stop and cont emit STOP and RESUME events, before the command resolves', async () => {
    const seen: QmpEvent[] = [];
    const onEvent = (ev: QmpEvent): void => void seen.push(ev);
    qmp.on('event', onEvent);
    try {
      const stopped = qmp.waitEvent('STOP', { timeoutMs: 5000 });
      await qmp.execute('stop');
      const ev = await stopped;
      assert.equal(ev.event, 'STOP');
      assert.ok(ev.timestamp.seconds > 0);
      assert.equal((await qmp.execute<{ status: string }>('query-status')).status, 'paused');
      const resumed = qmp.waitEvent('RESUME', { timeoutMs: 5000 });
      await qmp.execute('cont');
      await resumed;
      assert.deepEqual(
        seen.map((e) => e.event),
        ['STOP', 'RESUME'],
      );
    } finally {
      qmp.off('event', onEvent);
    }
  });

  test("a QEMU error becomes libvirt's INTERNAL_ERROR in the QEMU domain with QEMU's desc", async () => {
    await assert.rejects(qmp.execute('device_del', { id: 'no-such-device' }), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.INTERNAL_ERROR);
      assert.equal(err.domain, ErrorDomain.QEMU);
      assert.match(err.message, /^internal error: unable to execute QEMU command 'device_del': Device 'no-such-device' not found$/);
      assert.ok(isQmpErrorClass(err, 'DeviceNotFound'));
      return true;
    });
    await assert.rejects(qmp.execute('no-such-command'), (err: unknown) => isQmpErrorClass(err, 'CommandNotFound'));
    // The connection is still good afterwards.
    assert.equal((await qmp.execute<{ arch: string }>('query-target')).arch, 'x86_64');
  });

  test('a command without a reply in time fails with OPERATION_TIMEOUT; the client carries on', async () => {
    // A stopped QEMU reads nothing: its reply cannot come before SIGCONT.
    proc.signal('SIGSTOP');
    try {
      await assert.rejects(qmp.execute('query-status', undefined, { timeoutMs: 150 }), (err: unknown) => {
        assert.ok(err instanceof VirtError);
        assert.equal(err.code, ErrorNumber.OPERATION_TIMEOUT);
        assert.match(err.message, /'query-status' got no reply within 150 ms \(vm='main'\)/);
        return true;
      });
    } finally {
      proc.signal('SIGCONT');
    }
    // The late reply is dropped, and the next command gets its own.
    assert.equal((await qmp.execute<{ arch: string }>('query-target')).arch, 'x86_64');
  });

  test('getfd passes a descriptor (SCM_RIGHTS) that QEMU then uses', async () => {
    // A connected stream socket: netdev 'socket' takes it by the name getfd gave it.
    const server = net.createServer((c) => c.on('error', () => undefined));
    const path = join(tmp.path, 'peer.sock');
    await new Promise<void>((r) => server.listen(path, r));
    const client = net.connect(path);
    await new Promise((r) => client.once('connect', r));
    try {
      const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      await qmp.execute('getfd', { fdname: 'peer' }, { fds: [fd] });
      await qmp.execute('netdev_add', { type: 'socket', id: 'n-peer', fd: 'peer' });
      const netdevs = await qmp.execute<string>('human-monitor-command', { 'command-line': 'info network' });
      assert.match(netdevs, /n-peer/);
      await qmp.execute('netdev_del', { id: 'n-peer' });
      // Without a descriptor, getfd fails: proof the first one really travelled.
      await assert.rejects(qmp.execute('getfd', { fdname: 'none' }), /No file descriptor supplied via SCM_RIGHTS/);
      // A descriptor that is no socket is refused by netdev_add: QEMU got exactly what we sent.
      const devnull = openSync('/dev/null', 'r');
      try {
        await qmp.execute('getfd', { fdname: 'null' }, { fds: [devnull] });
      } finally {
        closeSync(devnull);
      }
      await assert.rejects(qmp.execute('netdev_add', { type: 'socket', id: 'n-null', fd: 'null' }), /unable to execute QEMU command 'netdev_add'/);
    } finally {
      client.destroy();
      server.close();
    }
  });

  test('waitEvent times out with OPERATION_TIMEOUT', async () => {
    await assert.rejects(qmp.waitEvent('GUEST_PANICKED', { timeoutMs: 50 }), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.OPERATION_TIMEOUT);
      return true;
    });
  });
});

describe('QMP client when QEMU dies', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-base-qmpdead-${process.pid}-`);
  after(() => tmp.remove());

  test('a killed QEMU fails every pending command, emits one close, and refuses new commands', async () => {
    const { proc, sock } = await startBareQemu(tmp.path, 'dead');
    const qmp = await QmpClient.connect(sock, { vmName: 'dead' });
    const closes: string[] = [];
    qmp.on('close', (info) => closes.push(info.reason));
    // Pending for real: QEMU is stopped, so nothing is answered before it dies.
    proc.signal('SIGSTOP');
    const pending = [qmp.execute('query-status'), qmp.execute('query-version'), qmp.waitEvent('RESUME')];
    proc.signal('SIGKILL');
    for (const p of pending) {
      await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof VirtError);
        assert.equal(err.code, ErrorNumber.INTERNAL_ERROR);
        assert.equal(err.message, "internal error: End of file from qemu monitor (vm='dead')");
        return true;
      });
    }
    assert.deepEqual(closes, ['eof']);
    assert.equal(qmp.closed, true);
    await assert.rejects(qmp.execute('query-status'), /End of file from qemu monitor/);
    assert.deepEqual(await proc.exited, { code: null, signal: 'SIGKILL' });
    assert.deepEqual(closes, ['eof']);
  });

  test('connect gives up when the QEMU it waits for has exited', async () => {
    const sock = join(tmp.path, 'never.qmp');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(QmpClient.connect(sock, { signal: ac.signal, timeoutMs: 10_000 }), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.OPERATION_FAILED);
      return true;
    });
  });

  test('connecting to a socket nobody serves fails with the path and errno', async () => {
    await assert.rejects(QmpClient.connect(join(tmp.path, 'missing.qmp'), { timeoutMs: 30 }), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.SYSTEM_ERROR);
      assert.match(err.message, /missing\.qmp.*No such file or directory/);
      return true;
    });
  });

  test('a peer that is not QMP is reported, not trusted', async () => {
    const path = join(tmp.path, 'fake.qmp');
    const server = net.createServer((c) => c.end('hello, I am not QEMU\n'));
    await new Promise<void>((r) => server.listen(path, r));
    try {
      await assert.rejects(QmpClient.connect(path, { timeoutMs: 2000 }), /greeting is not JSON/);
    } finally {
      server.close();
    }
  });
});

// tsvirtd as a process: sockets and pid file, the pid-file lock against a second daemon,
// --daemon (returns once listening, detached, logs to its file), SIGHUP reloading the config
// (log level applied, restart-only keys named) and SIGTERM cleaning up.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasCommand, isRoot } from '../helpers/system.js';
import { run } from '../helpers/command.js';
import { until } from '../helpers/until.js';
import { startTsvirtd, TSVIRTD, type RunningTsvirtd } from './tsvirtd.js';

const skip = !isRoot ? 'needs root' : hasCommand('virsh') ? false : 'needs virsh';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('tsvirtd lifecycle', { skip }, () => {
  let d: RunningTsvirtd;
  before(async () => {
    d = await startTsvirtd({ tag: 'life', config: 'log_level = 3\n' });
  });
  after(async () => {
    await d?.stop();
  });

  test('sockets: read-write 0700 for root only, read-only 0777; the pid file holds the daemon pid', () => {
    assert.equal(statSync(d.socket).mode & 0o777, 0o700);
    assert.equal(statSync(d.roSocket!).mode & 0o777, 0o777);
    assert.ok(statSync(d.socket).isSocket());
    assert.equal(readFileSync(join(d.dir, 'root/run/tsvirtd.pid'), 'utf8'), String(d.pid));
  });

  test('a second tsvirtd on the same pid file refuses to start and leaves the first one alone', async () => {
    const r = await run(TSVIRTD, ['--root', join(d.dir, 'root')], { timeout: 20000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), `tsvirtd: Failed to acquire pid file '${join(d.dir, 'root/run/tsvirtd.pid')}': Resource temporarily unavailable`);
    assert.ok(existsSync(d.socket));
    const v = await run('virsh', ['-c', d.uri('test', '/default'), 'domstate', 'test']);
    assert.equal(v.stdout.trim(), 'running');
  });

  test('another pid file but the same live sockets: refused, the first daemon keeps its sockets', async () => {
    const r = await run(TSVIRTD, ['--root', join(d.dir, 'root'), '--pid-file', join(d.dir, 'other.pid')], { timeout: 20000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Failed to bind socket to '.*libvirt-sock': another daemon is listening there/);
    assert.ok(existsSync(d.socket));
    assert.ok(!existsSync(join(d.dir, 'other.pid')));
  });
});

describe('SIGHUP and SIGTERM', { skip }, () => {
  let dir: string;
  let d: RunningTsvirtd;
  before(async () => {
    dir = mkdtempSync(`/tmp/tsvirt-daemon-hup-${process.pid}-`);
    chmodSync(dir, 0o755);
  });
  after(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGHUP applies log_level and limits, names the keys that need a restart; SIGTERM removes sockets and pid file', async () => {
    const logFile = join(dir, 'tsvirtd.log');
    const conf = (level: number, port: string, maxClients: number) =>
      `log_level = ${level}\nlog_outputs = "1:file:${logFile}"\ntcp_port = "${port}"\nmax_clients = ${maxClients}\n`;
    d = await startTsvirtd({ tag: 'hup', dir, config: conf(3, '16509', 100) });
    const conf1 = join(dir, 'tsvirtd.conf');
    let r = await run('virsh', ['-c', d.uri('test', '/default'), 'domstate', 'test']);
    assert.equal(r.status, 0, r.stderr);
    // At level 3 the per-call access lines (debug) are not written.
    assert.doesNotMatch(readFileSync(logFile, 'utf8'), /CONNECT_GET_TYPE|DOMAIN_GET_STATE/);

    writeFileSync(conf1, conf(1, '16600', 1));
    d.proc.kill('SIGHUP');
    await until(() => /configuration reloaded/.test(readFileSync(logFile, 'utf8')), 'the reload in the log');
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /info : daemon : configuration reloaded from .*tsvirtd\.conf; applied: log_level, max_clients/);
    assert.match(log, /warning : daemon : changed keys that need a restart of tsvirtd: tcp_port/);
    // Debug lines now: each call with the caller's identity.
    r = await run('virsh', ['-c', d.uri('test', '/default'), 'domstate', 'test']);
    assert.equal(r.status, 0, r.stderr);
    const after = readFileSync(logFile, 'utf8');
    assert.match(after, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: \d+: debug : daemon\.access : DOMAIN_GET_STATE by uid=0 gid=0 pid=\d+: allowed$/m);
    // max_clients = 1 now: while one client is connected a second is dropped.
    const connected = () => (readFileSync(logFile, 'utf8').match(/client \d+ connected/g) ?? []).length;
    const before = connected();
    const holder = net.connect({ path: d.socket });
    await until(() => connected() === before + 1, 'one more connected client');
    r = await run('virsh', ['-c', d.uri('test', '/default'), 'domstate', 'test']);
    assert.notEqual(r.status, 0);
    holder.destroy();
    assert.match(readFileSync(logFile, 'utf8'), /Too many active clients \(1\), dropping connection/);

    // A config that no longer parses: reload refused, the running values stay.
    writeFileSync(conf1, 'log_level = "loud"\n');
    d.proc.kill('SIGHUP');
    await until(() => /keeping the running configuration/.test(readFileSync(logFile, 'utf8')), 'the refused reload in the log');
    assert.match(readFileSync(logFile, 'utf8'), /error : daemon : reload: internal error: .*tsvirtd\.conf: expected an unsigned integer for 'log_level' parameter; keeping the running configuration/);

    const pidFile = join(dir, 'root/run/tsvirtd.pid');
    assert.ok(existsSync(pidFile));
    const exit = await d.kill('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(!existsSync(d.socket));
    assert.ok(!existsSync(d.roSocket!));
    assert.ok(!existsSync(pidFile));
    assert.match(readFileSync(logFile, 'utf8'), /info : daemon : stopped/);
  });
});

describe('--daemon', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(`/tmp/tsvirt-daemon-fork-${process.pid}-`);
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('returns once the detached daemon listens; the daemon logs to its file and stops on SIGTERM', async () => {
    const root = join(dir, 'root');
    const r = await run(TSVIRTD, ['--daemon', '--root', root, '-v'], { timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    // Listening by the time the command returned.
    const sock = join(root, 'run/libvirt-sock');
    assert.ok(existsSync(sock));
    const pid = Number(readFileSync(join(root, 'run/tsvirtd.pid'), 'utf8'));
    assert.ok(pid > 0 && alive(pid));
    // Detached: a session of its own.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    assert.equal(Number(stat[3]), pid, 'session id is its own pid');
    const v = await run('virsh', ['-c', `test+unix:///default?socket=${sock}`, 'domstate', 'test']);
    assert.equal(v.stdout.trim(), 'running');
    await until(() => existsSync(join(root, 'log/tsvirtd.log')) && /client \d+ connected/.test(readFileSync(join(root, 'log/tsvirtd.log'), 'utf8')), 'the client in the log');
    process.kill(pid, 'SIGTERM');
    await until(() => !alive(pid) || /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')), `tsvirtd ${pid} to exit`);
    assert.ok(!existsSync(sock));
    assert.match(readFileSync(join(root, 'log/tsvirtd.log'), 'utf8'), /info : daemon : stopped/);
  });

  test("a daemon that cannot start: the command prints the daemon's error and exits 1", async () => {
    const conf = join(dir, 'bad.conf');
    writeFileSync(conf, 'listen_tcp = 7\n');
    const r = await run(TSVIRTD, ['--daemon', '--config', conf, '--root', join(dir, 'root2')], { timeout: 30000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), `tsvirtd: internal error: ${conf}: value for 'listen_tcp' parameter must be 0 or 1`);
  });
});

describe('unix_sock_group and unix_sock_rw_perms', { skip }, () => {
  let d: RunningTsvirtd;
  after(async () => {
    await d?.stop();
  });

  test("a group-owned read-write socket lets the group's members in, and only them", async () => {
    const { testUser } = await import('../helpers/system.js');
    const user = testUser();
    d = await startTsvirtd({ tag: 'group', config: `unix_sock_group = "${user.name}"\nunix_sock_rw_perms = "0770"\n` });
    const st = statSync(d.socket);
    assert.equal(st.mode & 0o777, 0o770);
    assert.equal(st.gid, user.gid);
    const env = { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C' };
    const member = await run('virsh', ['-c', d.uri('test', '/default'), 'domstate', 'test'], { env, uid: user.uid, gid: user.gid });
    assert.equal(member.stdout.trim(), 'running', member.stderr);
    // nobody (not in the group) is refused by the kernel.
    const outsider = await run('virsh', ['-c', d.uri('test', '/default'), 'domstate', 'test'], { env, uid: 65534, gid: 65534 });
    assert.equal(outsider.status, 1);
    assert.match(outsider.stderr, /Permission denied/);
  });

  test('an unknown group is refused at start, naming it', async () => {
    const conf = join(d.dir, 'nogroup.conf');
    writeFileSync(conf, 'unix_sock_group = "no-such-group-tsvirt"\n');
    const r = await run(TSVIRTD, ['--config', conf, '--root', join(d.dir, 'root-nogroup')], { timeout: 20000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), "tsvirtd: internal error: Failed to find group record for name 'no-such-group-tsvirt'");
  });
});

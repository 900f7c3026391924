// The interactive shell (stdin and a real pty), the event command, and `make demo`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { open } from '../../src/api/index.js';
import { registry } from '../../src/cli/commandTable.js';
import { complete } from '../../src/cli/interactive.js';
import { Shell } from '../../src/cli/shell.js';
import { hasCommand, tempDir } from '../helpers/system.js';
import { haveVirsh, tsvirt, tsvirtBin, virsh } from './shells.js';

const C = ['-c', 'test:///default'];

test('commands read from stdin: same output as virsh (prompt and banner named tsvirt)', { skip: haveVirsh ? false : 'needs virsh' }, () => {
  const input = 'uri\nlist --name\nbogus\ndestroy test; list --all\n\nstart test\nconnect test:///\nuri\nlist\nquit\nuri\n';
  const want = virsh(C, { input });
  const got = tsvirt(C, { input });
  assert.equal(got.stdout, want.stdout.replace(/virsh/g, 'tsvirt'));
  assert.equal(got.stderr, want.stderr);
  assert.equal(got.status, want.status);
  const q = 'uri\nlist\n';
  assert.equal(tsvirt(['-q', ...C], { input: q }).stdout, virsh(['-q', ...C], { input: q }).stdout.replace(/virsh/g, 'tsvirt'));
});

test('interactive mode keeps one connection across lines', () => {
  const r = tsvirt(C, { input: 'destroy test\ndomstate test\n' });
  assert.match(r.stdout, /tsvirt [#$] domstate test\nshut off\n/);
});

test('completion offers command names, then the command’s options', async () => {
  assert.deepEqual((await complete('net-l'))[0], ['net-list ']);
  const [opts, word] = await complete('list --na');
  assert.deepEqual(opts, ['--name ']);
  assert.equal(word, '--na');
  const all = (await complete('domstate test '))[0];
  assert.deepEqual(all, ['--reason ']);
  assert.deepEqual((await complete('domstate '))[0], ['--domain ', '--reason ']);
  const { sh } = captureShell();
  assert.ok(await sh.connect());
  try {
    assert.deepEqual((await complete('dominfo te', sh))[0], ['test ']);
    assert.deepEqual((await complete('start --domain ', sh))[0], ['test ']);
    assert.deepEqual((await complete('net-info d', sh))[0], ['default ']);
    assert.deepEqual((await complete('domstate test --r', sh))[0], ['--reason ']);
  } finally {
    await sh.close();
  }
  assert.deepEqual((await complete('uri; dumpx'))[0], ['dumpxml ']);
});

test('on a terminal: tab completion and history kept across sessions', { skip: hasCommand('script') ? false : 'needs script (util-linux) for a pty' }, () => {
  const tmp = tempDir(`tsvirt-testdriver-${process.pid}-`);
  try {
    // Keys go one by one, as typed, so readline sees a tab as completion rather than a paste.
    const keys = ['l', 'i', '\t', '-', '-', 'n', 'a', '\t', '\r', 'q', 'u', 'i', 't', '\r'];
    const feed = keys.map((k) => `printf '${k === '\t' ? '\\t' : k === '\r' ? '\\r' : k}'; sleep 0.15`).join('; ');
    const r = spawnSync('sh', ['-c', `(sleep 1; ${feed}; sleep 0.5) | script -qfc '${process.execPath} ${tsvirtBin} -c test:///default' /dev/null`], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: tmp.path },
      timeout: 30_000,
    });
    assert.match(r.stdout, /list --name/);
    assert.match(r.stdout, /\r\ntest\r\n/);
    const history = readFileSync(join(tmp.path, 'tsvirt/history'), 'utf8');
    assert.equal(history, 'list --name \nquit\n');
  } finally {
    tmp.remove();
  }
});

function captureShell(): { sh: Shell; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const sh = new Shell({ uri: 'test:///default', io: { out: (s) => void out.push(s), err: (s) => void err.push(s) }, registry });
  return { sh, out, err };
}

test('event --loop prints what another connection causes, in virsh’s words', async () => {
  const { sh, out } = captureShell();
  assert.ok(await sh.connect());
  const other = await open('test:///default');
  try {
    const cmds = (await sh.parseString('event --loop --all --timeout 1'))!;
    const running = sh.run(cmds);
    await new Promise((r) => setTimeout(r, 50));
    const d = await other.domainLookupByName('test');
    await d.suspend();
    await d.resume();
    await d.destroy();
    assert.equal(await running, true);
    assert.equal(
      out.join(''),
      "event 'lifecycle' for domain 'test': Suspended Paused\n" +
        "event 'lifecycle' for domain 'test': Resumed Unpaused\n" +
        "event 'lifecycle' for domain 'test': Stopped Destroyed\n" +
        'event loop timed out\nevents received: 3\n\n',
    );
  } finally {
    await other.close();
    await sh.close();
  }
});

test('event without --loop stops at the first event; --timestamp prefixes the time', async () => {
  const { sh, out } = captureShell();
  assert.ok(await sh.connect());
  const other = await open('test:///default');
  try {
    const running = sh.run((await sh.parseString('event --event lifecycle --timestamp --domain test'))!);
    await new Promise((r) => setTimeout(r, 50));
    await (await other.domainLookupByName('test')).suspend();
    assert.equal(await running, true);
    assert.match(out.join(''), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: event 'lifecycle' for domain 'test': Suspended Paused\nevents received: 1\n\n$/);
  } finally {
    await other.close();
    await sh.close();
  }
});

test('Ctrl-C ends `event --loop` as in virsh (SIGINT outside a terminal)', { skip: haveVirsh ? false : 'needs virsh' }, () => {
  const runInterrupted = (cmd: string): { stdout: string; status: number | null } => {
    const r = spawnSync('sh', ['-c', `${cmd} -c test:///default 'event --all --loop' & p=$!; sleep 1; kill -INT $p; wait $p`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { stdout: r.stdout, status: r.status };
  };
  const want = runInterrupted('virsh');
  const got = runInterrupted(`${process.execPath} ${tsvirtBin}`);
  assert.deepEqual(got, want);
  assert.equal(got.stdout, 'event loop interrupted\nevents received: 0\n\n');
});

test('on a terminal, Ctrl-C ends a running `event --loop` and the shell goes on', { skip: hasCommand('script') ? false : 'needs script (util-linux) for a pty' }, () => {
  const r = spawnSync(
    'sh',
    ['-c', `(sleep 1; printf 'event --all --loop\\r'; sleep 1; printf '\\003'; sleep 0.5; printf 'uri\\r'; sleep 0.3; printf 'quit\\r'; sleep 0.3) | script -qfc '${process.execPath} ${tsvirtBin} -c test:///default' /dev/null`],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.match(r.stdout, /event loop interrupted\r\nevents received: 0\r\n/);
  assert.match(r.stdout, /uri\r+\ntest:\/\/\/default\r\n/);
});

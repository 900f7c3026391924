// Real clients of tsvirtd, side by side with libvirtd: python-libvirt making spec §4's calls with
// lifecycle events; tsvirt's own library (open() with the same URI) making the same calls;
// bin/tsvirt against both printing what virsh prints; and the library's routing — qemu:///session
// and test+unix:/// reach a running tsvirtd's socket, and the in-process driver without one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { open } from '../../src/api/index.js';
import type { Connection } from '../../src/api/connection.js';
import { VirtError } from '../../src/errors/index.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { projectRoot, testUser } from '../helpers/system.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { run } from '../helpers/command.js';
import { sessionEnv, startTsvirtd, type RunningTsvirtd } from './tsvirtd.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

const python = '/usr/bin/python3';
const skip = libvirtdSkipReason() || (existsSync(python) ? false : 'needs /usr/bin/python3 with python3-libvirt');
const script = join(projectRoot, 'test/remote/fixtures/libvirtCalls.py');
const TSVIRT = join(projectRoot, 'bin/tsvirt');

async function runPython(uri: string, name: string): Promise<Record<string, unknown>> {
  const r = await run(python, [script, uri, name]);
  if (r.status !== 0) throw new Error(`python exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** libvirtCalls.py's calls, through tsvirt's public API. */
async function apiCalls(c: Connection, name: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.version = await c.getVersion();
  out.libVersion = await c.getLibVersion();
  out.type = await c.getType();
  out.hostname = await c.getHostname();
  out.alive = await c.isAlive();
  const events: unknown[] = [];
  const cb = await c.domainEventRegisterAny(null, 0, (ev) => {
    if (ev.eventId === 0) events.push([ev.dom.name, ev.event, ev.detail, ev.dom.id > 0]);
  });
  out.nosuch = await c.domainLookupByName('nosuch').then(
    () => null,
    (e: VirtError) => [e.code, e.domain, e.message],
  );
  out.domains = (await c.listAllDomains(0)).map((d) => d.name).sort();
  const dom = await c.domainDefineXML(
    `<domain type='test'><name>${name}</name><uuid>4e7b5bed-5fd4-11d2-883f-0016d3cca42a</uuid><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`,
  );
  out.defined = [dom.name, dom.getUUIDString(), dom.id];
  await dom.create();
  out.started_id_positive = dom.id > 0;
  const info = await dom.getInfo();
  out.info = [info.state, info.maxMem, info.memory, info.nrVirtCpu];
  const st = await dom.getState();
  out.state = [st.state, st.reason];
  out.active = (await dom.isActive()) ? 1 : 0;
  out.xml_has_name = (await dom.getXMLDesc(0)).includes(`<name>${name}</name>`);
  out.test_by_name = (await c.domainLookupByName('test')).getUUIDString();
  await dom.destroy();
  out.active_after_destroy = (await dom.isActive()) ? 1 : 0;
  await dom.undefine();
  out.after_undefine = await dom.isActive().then(
    () => null,
    (e: VirtError) => [e.code, e.domain],
  );
  const end = Date.now() + 5000;
  while (events.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  out.events = events;
  await c.domainEventDeregisterAny(cb);
  return out;
}

describe('clients of tsvirtd, side by side with libvirtd', { skip }, () => {
  let lvd: PrivateLibvirtd;
  let ts: RunningTsvirtd;
  before(async () => {
    [lvd, ts] = await Promise.all([startLibvirtd({ tag: 'daemon' }), startTsvirtd({ tag: 'clients' })]);
  });
  after(async () => {
    await Promise.all([lvd?.stop(), ts?.stop()]);
  });

  test('python-libvirt: §4 calls and lifecycle events, the same from both', async () => {
    const name = `daemon-py-${process.pid}`;
    const theirs = await runPython(lvd.uri('test', '/default'), name);
    const ours = await runPython(ts.uri('test', '/default'), name);
    assert.deepEqual(theirs.events, [
      [name, 0, 0, false],
      [name, 2, 0, true],
      [name, 5, 1, false],
      [name, 1, 0, false],
    ]);
    assert.deepEqual(ours, theirs);
  });

  test("tsvirt's library: the same calls give the same answers from both, and match python's", async () => {
    const name = `daemon-api-${process.pid}`;
    const a = await open(lvd.uri('test', '/default'));
    const b = await open(ts.uri('test', '/default'));
    try {
      const theirs = await apiCalls(a, name);
      const ours = await apiCalls(b, name);
      assert.deepEqual(ours, theirs);
      const py = await runPython(ts.uri('test', '/default'), `${name}-py`);
      for (const k of ['version', 'libVersion', 'type', 'hostname', 'info', 'state', 'active', 'test_by_name', 'after_undefine']) assert.deepEqual(ours[k], py[k], k);
      assert.deepEqual(ours.events, (py.events as unknown[][]).map((e) => [name, ...e.slice(1)]));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('list calls with a negative maximum: the same refusal from both daemons (the wire skips the API check)', async () => {
    const refusal = async (uri: string, call: (d: RemoteDriver) => Promise<unknown>) => {
      const d = await RemoteDriver.open(uri);
      try {
        const e = await call(d).then(() => undefined, (err: VirtError) => err);
        return e && { code: e.code, domain: e.domain, message: e.message };
      } finally {
        await d.close();
      }
    };
    for (const call of [(d: RemoteDriver) => d.listDomains(-1), (d: RemoteDriver) => d.listDefinedDomains(-2), (d: RemoteDriver) => d.listNetworks(-1), (d: RemoteDriver) => d.listDefinedNetworks(-3)]) {
      const theirs = await refusal(lvd.uri('test', '/default'), call);
      assert.ok(theirs, 'libvirtd refuses');
      assert.deepEqual(await refusal(ts.uri('test', '/default'), call), theirs);
    }
  });

  test('bin/tsvirt -c qemu+unix:///…?socket=… works against tsvirtd and libvirtd, printing what virsh prints', { timeout: 120000 }, async () => {
    const targets = [
      ['tsvirtd', ts.uri('qemu', '/system'), ts.uri('test', '/default')],
      ['libvirtd', lvd.uri('qemu', '/session'), lvd.uri('test', '/default')],
    ] as const;
    for (const [who, qemuUri, testUri] of targets) {
      for (const [uri, args] of [
        [qemuUri, ['version']],
        [qemuUri, ['list', '--all']],
        [qemuUri, ['dominfo', 'nosuch']],
        [testUri, ['dominfo', 'test']],
        [testUri, ['domstate', '--reason', 'test']],
        [testUri, ['list', '--all']],
      ] as const) {
        const env = { ...process.env, LANG: 'C', LC_ALL: 'C' };
        const ours = await run(process.execPath, [TSVIRT, '-c', uri, ...args], { env });
        const theirs = await run('virsh', ['-c', uri, ...args], { env });
        assert.deepEqual(
          { status: ours.status, stdout: ours.stdout.replace(/CPU time:\s+\S+/, ''), stderr: ours.stderr },
          { status: theirs.status, stdout: theirs.stdout.replace(/CPU time:\s+\S+/, ''), stderr: theirs.stderr },
          `${who}: ${args.join(' ')}`,
        );
      }
    }
  });
});

describe("the library's routing to a running tsvirtd", { skip: libvirtdSkipReason() }, () => {
  let ts: RunningTsvirtd;
  before(async () => {
    ts = await startTsvirtd({ tag: 'route', mode: 'session', config: 'log_level = 2\n' });
  });
  after(async () => {
    await ts?.stop();
  });

  /** Runs a snippet with tsvirt's library as the test user, in the daemon's session environment. */
  async function asUser(body: string): Promise<string> {
    const user = testUser();
    const code = `import(${JSON.stringify(join(projectRoot, 'dist/src/api/index.js'))}).then(async (api) => { ${body} }).catch((e) => { console.log('ERR', e.message); process.exit(1); });`;
    const r = await run(process.execPath, ['-e', code], { env: sessionEnv(ts.dir), uid: user.uid, gid: user.gid, timeout: 60000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return r.stdout;
  }

  test('qemu:///session and test+unix:///default reach the session daemon; without it, the in-process driver', async () => {
    const uid = testUser().uid;
    const opens = () => (ts.log().match(/daemon\.clients : open '/g) ?? []).length;
    const before = opens();
    const out = await asUser(`
      const q = await api.open('qemu:///session');
      console.log(q.driver.constructor.name, await q.getURI(), await q.getType());
      await q.close();
      const t = await api.open('test+unix:///default');
      console.log(t.driver.constructor.name, await t.getURI(), (await t.domainLookupByName('test')).name);
      await t.close();
      const ro = await api.open('qemu:///session', { readonly: true });
      console.log(ro.driver.constructor.name, ro.readonly);
      await ro.close();
    `);
    assert.equal(out, 'RemoteDriver qemu:///session QEMU\nRemoteDriver test+unix:///default test\nRemoteDriver true\n');
    const log = ts.log();
    assert.equal(opens(), before + 3);
    assert.match(log, new RegExp(`open 'qemu:///session' for uid=${uid} `));
    assert.match(log, new RegExp(`open 'test:///default' for uid=${uid} `));
    assert.match(log, new RegExp(`open 'qemu:///session' read-only for uid=${uid} `));

    // test:///default (no transport) never goes to a daemon.
    const local = await asUser(`const t = await api.open('test:///default'); console.log(t.driver.constructor.name); await t.close();`);
    assert.equal(local, 'TestDriver\n');

    // With the daemon gone, qemu:///session is the QEMU driver in the process.
    await ts.kill();
    const inProcess = await asUser(`const q = await api.open('qemu:///session'); console.log(q.driver.constructor.name, await q.getURI()); await q.close();`);
    assert.equal(inProcess, 'QemuDriver qemu:///session\n');
    await ts.restart();
  });
});

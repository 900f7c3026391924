// Lifecycle events of the test driver: the same (event, detail, id) sequence as libvirt 9.0's
// test driver reports to python-libvirt for the same operations, plus registration semantics.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  DomainEventID,
  DomainEventType,
  NetworkEventLifecycleType,
  open,
  VirtError,
  type DomainEventMessage,
  type NetworkEventMessage,
} from '../../src/api/index.js';
import { havePythonLibvirt, PYTHON } from './pythonLibvirt.js';

const X = "<domain type='test'><name>x</name><uuid>0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0</uuid><memory>1024</memory><os><type>hvm</type></os></domain>";
const T = (name: string, uuid: string): string => X.replace('>x<', `>${name}<`).replace('0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', uuid);
const NX = "<network><name>n2</name><uuid>5e1c2d3e-4f50-6172-8394-a5b6c7d8e9f0</uuid><bridge name='virbr9'/></network>";

const PY_SCENARIO = `
import json, threading, time, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True: libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
c = libvirt.open('test:///default')
evs = []
c.domainEventRegisterAny(None, 0, lambda conn, d, e, det, o: evs.append(['dom', d.name(), d.ID(), e, det]), None)
c.networkEventRegisterAny(None, 0, lambda conn, n, e, det, o: evs.append(['net', n.name(), e, det]), None)
X = ${JSON.stringify(X)}
d = c.defineXML(X); d = c.defineXML(X)
d.create(); d.suspend(); d.resume(); d.reboot(0); d.shutdown(); d.create(); d.destroy(); d.undefine()
t = c.createXML(${JSON.stringify(T('t', '1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'))}, 0); t.destroy()
t = c.createXML(${JSON.stringify(T('t2', '2b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'))}, 0); t.shutdown()
d = c.defineXML(X); d.create(); d.undefine(); d.destroy()
n = c.networkLookupByName('default'); n.destroy(); n.create()
n2 = c.networkDefineXML(${JSON.stringify(NX)}); n2.create(); n2.destroy(); n2.undefine()
n3 = c.networkCreateXML(${JSON.stringify(NX)}); n3.destroy()
time.sleep(0.5)
print(json.dumps(evs))
`;

test('lifecycle events match libvirt 9.0 test driver (via python-libvirt)', { skip: havePythonLibvirt() ? false : 'needs python3-libvirt' }, async () => {
  const r = spawnSync(PYTHON, ['-c', PY_SCENARIO], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as unknown[];

  const c = await open('test:///default');
  const got: unknown[] = [];
  await c.domainEventRegisterAny(null, DomainEventID.LIFECYCLE, (ev) => {
    if (ev.eventId === 0) got.push(['dom', ev.dom.getName(), ev.dom.getID(), ev.event, ev.detail]);
  });
  await c.networkEventRegisterAny(null, 0, (ev) => got.push(['net', ev.net.getName(), ev.event, ev.detail]));
  let d = await c.domainDefineXML(X);
  d = await c.domainDefineXML(X);
  await d.create();
  await d.suspend();
  await d.resume();
  await d.reboot(0);
  await d.shutdown();
  await d.create();
  await d.destroy();
  await d.undefine();
  let t = await c.domainCreateXML(T('t', '1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'));
  await t.destroy();
  t = await c.domainCreateXML(T('t2', '2b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'));
  await t.shutdown();
  d = await c.domainDefineXML(X);
  await d.create();
  await d.undefine();
  await d.destroy();
  const n = await c.networkLookupByName('default');
  await n.destroy();
  await n.create();
  const n2 = await c.networkDefineXML(NX);
  await n2.create();
  await n2.destroy();
  await n2.undefine();
  const n3 = await c.networkCreateXML(NX);
  await n3.destroy();
  await new Promise((res) => setImmediate(res));
  await c.close();
  assert.deepEqual(got, want);
  // And the numbers are libvirt's: define is (0 DEFINED, 0 ADDED), start (2 STARTED, 0 BOOTED).
  assert.deepEqual(got[0], ['dom', 'x', -1, DomainEventType.DEFINED, 0]);
  assert.deepEqual(got[2], ['dom', 'x', 2, DomainEventType.STARTED, 0]);
});

test('a registration for one domain sees only that domain; deregistering stops delivery', async () => {
  const c = await open('test:///default');
  try {
    const test1 = await c.domainLookupByName('test');
    const other = await c.domainDefineXML(X);
    const seen: DomainEventMessage[] = [];
    const id = await c.domainEventRegisterAny(test1, DomainEventID.LIFECYCLE, (ev) => seen.push(ev));
    await other.create();
    await test1.suspend();
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(
      seen.map((e) => [e.dom.getName(), e.eventId === 0 ? [e.event, e.detail] : null]),
      [['test', [DomainEventType.SUSPENDED, 0]]],
    );
    await c.domainEventDeregisterAny(id);
    await test1.resume();
    await new Promise((res) => setImmediate(res));
    assert.equal(seen.length, 1);
    await assert.rejects(c.domainEventDeregisterAny(id), (e: VirtError) => e.code === 8 && /could not find event callback/.test(e.message));
  } finally {
    await c.close();
  }
});

test('events caused on one test:///default connection reach another (shared node, as libvirt)', async () => {
  const a = await open('test:///default');
  const b = await open('test:///default');
  try {
    const seen: NetworkEventMessage[] = [];
    await b.networkEventRegisterAny(null, 0, (ev) => seen.push(ev));
    await (await a.networkLookupByName('default')).destroy();
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(
      seen.map((e) => [e.net.getName(), e.event]),
      [['default', NetworkEventLifecycleType.STOPPED]],
    );
    assert.equal(seen[0]!.net.conn, b);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an unknown event id is refused', async () => {
  const c = await open('test:///default');
  try {
    await assert.rejects(c.domainEventRegisterAny(null, 27, () => undefined), (e: VirtError) => e.code === 8);
    await assert.rejects(c.networkEventRegisterAny(null, 1, () => undefined), (e: VirtError) => e.code === 8);
  } finally {
    await c.close();
  }
});

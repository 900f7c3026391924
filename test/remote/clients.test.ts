// The python-libvirt calls of spec §4 (with an event loop and lifecycle events) against
// libvirtd and through tsvirt, and tsvirt's own client running the same calls against both.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VirtError } from '../../src/errors/index.js';
import type { Driver } from '../../src/drivers/driver.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { projectRoot } from '../helpers/system.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { startProxy, type Proxy } from './proxy.js';

const python = '/usr/bin/python3';
const skip = libvirtdSkipReason() || (existsSync(python) ? false : 'needs /usr/bin/python3 with python3-libvirt');
const script = join(projectRoot, 'test/remote/fixtures/libvirtCalls.py');

function runPython(uri: string, name: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const c = spawn(python, [script, uri, name], { env: { ...process.env, LANG: 'C' } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), 60000);
    c.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`python exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as Record<string, unknown>);
    });
  });
}

/** The same calls as libvirtCalls.py, made with tsvirt's Driver interface. */
async function tsvirtCalls(d: Driver, name: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.version = await d.getVersion();
  out.libVersion = await d.getLibVersion();
  out.type = await d.getType();
  out.hostname = await d.getHostname();
  out.alive = await d.isAlive();
  const events: unknown[] = [];
  const cbid = await d.domainEventRegisterAny(null, 0, (ev) => {
    if (ev.eventId === 0) events.push([ev.dom.name, ev.event, ev.detail, ev.dom.id > 0]);
  });
  out.nosuch = await d.domainLookupByName('nosuch').then(
    () => null,
    (e: VirtError) => [e.code, e.domain, e.message],
  );
  out.domains = (await d.listAllDomains(0)).map((x) => x.name).sort();
  const xml = `<domain type='test'><name>${name}</name><uuid>4e7b5bed-5fd4-11d2-883f-0016d3cca42a</uuid><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`;
  const dom = await d.domainDefineXML(xml, 0);
  out.defined = [dom.name, dom.uuid, dom.id];
  const started = await d.domainCreate(dom, 0);
  out.started_id_positive = started.id > 0;
  const info = await d.domainGetInfo(started);
  out.info = [info.state, info.maxMem, info.memory, info.nrVirtCpu];
  out.state = await d.domainGetState(started, 0);
  out.active = await d.domainIsActive(started);
  out.xml_has_name = (await d.domainGetXMLDesc(started, 0)).includes(`<name>${name}</name>`);
  out.test_by_name = (await d.domainLookupByName('test')).uuid;
  await d.domainDestroy(started, 0);
  out.active_after_destroy = await d.domainIsActive(dom);
  await d.domainUndefine(dom, 0);
  out.after_undefine = await d.domainIsActive(dom).then(
    () => null,
    (e: VirtError) => [e.code, e.domain],
  );
  const end = Date.now() + 5000;
  while (events.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  out.events = events;
  await d.domainEventDeregisterAny(cbid);
  return out;
}

describe('clients: python-libvirt and tsvirt against libvirtd and through tsvirt', { skip }, () => {
  let direct: PrivateLibvirtd;
  let behind: PrivateLibvirtd;
  let px: Proxy;
  before(async () => {
    [direct, behind] = await Promise.all([startLibvirtd({ tag: 'rpc' }), startLibvirtd({ tag: 'rpc' })]);
    px = await startProxy(behind);
  });
  after(async () => {
    await px?.close();
    await Promise.all([direct?.stop(), behind?.stop()]);
  });

  test('python-libvirt: §4 calls and lifecycle events come out the same', async () => {
    const name = `rpc-py-${process.pid}`;
    const d = await runPython(direct.uri('test', '/default'), name);
    const p = await runPython(px.uri('test', '/default'), name);
    assert.deepEqual(d.events, [
      [name, 0, 0, false],
      [name, 2, 0, true],
      [name, 5, 1, false],
      [name, 1, 0, false],
    ]);
    assert.deepEqual(d.nosuch, [42, 12, 'Domain not found']);
    assert.equal(d.active, 1);
    assert.deepEqual(p, d);
  });

  test('tsvirt client: the same calls give the same results from libvirtd and from tsvirt', async () => {
    const name = `rpc-ts-${process.pid}`;
    const a = await RemoteDriver.open(direct.uri('test', '/default'));
    const b = await RemoteDriver.open(px.uri('test', '/default'));
    try {
      const d = await tsvirtCalls(a, name);
      const p = await tsvirtCalls(b, name);
      assert.deepEqual(d.events, [
        [name, 0, 0, false],
        [name, 2, 0, true],
        [name, 5, 1, false],
        [name, 1, 0, false],
      ]);
      assert.deepEqual(d.defined, [name, '4e7b5bed-5fd4-11d2-883f-0016d3cca42a', -1]);
      assert.deepEqual(p, d);
      // And what python saw, where the two APIs carry the same values.
      const py = await runPython(direct.uri('test', '/default'), `${name}-py`);
      assert.deepEqual(d.info, py.info);
      assert.deepEqual([d.version, d.libVersion, d.type, d.hostname], [py.version, py.libVersion, py.type, py.hostname]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

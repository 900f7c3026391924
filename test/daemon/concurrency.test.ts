// 50 clients at once against tsvirtd for a while: every call succeeds and every client gets the
// events of what it did. Clients on the test driver define/undefine and read; clients on the
// QEMU driver (qemu:///system on the daemon's --root) define, read, list and undefine too.
// 5 s by default; TSVIRT_DAEMON_STRESS_SECONDS=60 gives the full minute.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Driver } from '../../src/drivers/driver.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { hasCommand, isRoot } from '../helpers/system.js';
import { startTsvirtd, type RunningTsvirtd } from './tsvirtd.js';

const SECONDS = Number(process.env.TSVIRT_DAEMON_STRESS_SECONDS ?? 5);
const CLIENTS = 50;

describe('many clients at once against tsvirtd', { skip: !isRoot ? 'needs root' : hasCommand('qemu-system-x86_64') ? false : 'needs qemu' }, () => {
  let d: RunningTsvirtd;
  let holder: RemoteDriver;
  before(async () => {
    d = await startTsvirtd({ tag: 'many' });
    // Keeps the test driver's default state alive between clients.
    holder = await RemoteDriver.open(d.uri('test', '/default'));
  });
  after(async () => {
    await holder?.close();
    await d?.stop();
  });

  test(`${CLIENTS} clients for ${SECONDS} s: no failed call, every event delivered`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    const clients: Driver[] = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => RemoteDriver.open(i % 5 === 4 ? d.uri('qemu', '/system') : d.uri('test', '/default'))),
    );
    const failures: string[] = [];
    let calls = 0;
    const end = Date.now() + SECONDS * 1000;
    const work = clients.map(async (c, i) => {
      const qemu = i % 5 === 4;
      const mine = `daemon-many-${process.pid}-${i}`;
      const events: string[] = [];
      const cb = await c.domainEventRegisterAny(null, 0, (ev) => {
        if (ev.dom.name === mine && ev.eventId === 0) events.push(`${ev.event}`);
      });
      let cycles = 0;
      while (Date.now() < end) {
        try {
          if (i % 10 === 0 || qemu) {
            const xml = qemu
              ? `<domain type='qemu'><name>${mine}</name><memory>65536</memory><os><type arch='x86_64'>hvm</type></os></domain>`
              : `<domain type='test'><name>${mine}</name><memory>65536</memory><os><type>hvm</type></os></domain>`;
            const dom = await c.domainDefineXML(xml, 0);
            assert.match(await c.domainGetXMLDesc(dom, 0), new RegExp(`<name>${mine}</name>`));
            assert.ok((await c.listAllDomains(0)).some((x) => x.uuid === dom.uuid));
            await c.domainUndefine(dom, 0);
            cycles++;
            calls += 4;
          } else {
            const [v, doms] = await Promise.all([c.getVersion(), c.listAllDomains(0)]);
            assert.equal(v, 2);
            const t = doms.find((x) => x.name === 'test');
            assert.ok(t);
            assert.equal((await c.domainGetState(t, 0)).state, 1);
            assert.match(await c.domainGetXMLDesc(t, 0), /<name>test<\/name>/);
            calls += 4;
          }
        } catch (err) {
          failures.push(`client ${i}: ${(err as Error).message}`);
        }
      }
      const until = Date.now() + 10000;
      while (events.length < cycles * 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      if (events.length !== cycles * 2) failures.push(`client ${i}: ${events.length} events for ${cycles} cycles`);
      await c.domainEventDeregisterAny(cb);
    });
    await Promise.all(work);
    await Promise.all(clients.map((c) => c.close()));
    assert.deepEqual(failures, []);
    assert.ok(calls > CLIENTS * 10, `only ${calls} calls`);
    assert.equal(d.proc.exitCode, null);
    process.stdout.write(`# ${calls} calls by ${CLIENTS} clients in ${SECONDS} s (${Math.round(calls / SECONDS)}/s); tsvirtd RSS ${(d.rssKiB() / 1024).toFixed(1)} MiB\n`);
  });
});

// 50 concurrent clients against tsvirtd's server core for a while: every call succeeds and
// each client's events reach it. Runs 5 s by default; TSVIRT_RPC_STRESS_SECONDS=60 gives the
// full minute of the acceptance criterion.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { startProxy, type Proxy } from './proxy.js';

const skip = libvirtdSkipReason();
const SECONDS = Number(process.env.TSVIRT_RPC_STRESS_SECONDS ?? 5);
const CLIENTS = 50;

describe('many clients at once', { skip }, () => {
  let lvd: PrivateLibvirtd;
  let px: Proxy;
  let holder: RemoteDriver;
  before(async () => {
    lvd = await startLibvirtd({ tag: 'rpc' });
    holder = await RemoteDriver.open(lvd.uri('test', '/default'));
    px = await startProxy(lvd);
  });
  after(async () => {
    await holder?.close();
    await px?.close();
    await lvd?.stop();
  });

  test(`${CLIENTS} clients for ${SECONDS} s: no failed call, every event delivered`, { timeout: (SECONDS + 60) * 1000 }, async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RemoteDriver.open(px.uri())));
    const failures: string[] = [];
    let calls = 0;
    const end = Date.now() + SECONDS * 1000;
    const work = clients.map(async (d, i) => {
      const mine = `rpc-many-${process.pid}-${i}`;
      const events: string[] = [];
      const cb = await d.domainEventRegisterAny(null, 0, (ev) => {
        if (ev.dom.name === mine && ev.eventId === 0) events.push(`${ev.event}`);
      });
      let cycles = 0;
      while (Date.now() < end) {
        try {
          if (i % 10 === 0) {
            // Some clients change state (and cause events) while the others read.
            const dom = await d.domainDefineXML(
              `<domain type='test'><name>${mine}</name><memory>65536</memory><os><type>hvm</type></os></domain>`,
              0,
            );
            await d.domainUndefine(dom, 0);
            cycles++;
            calls += 2;
          } else {
            const [v, doms] = await Promise.all([d.getVersion(), d.listAllDomains(0)]);
            assert.equal(v, 2);
            const t = doms.find((x) => x.name === 'test');
            assert.ok(t);
            const st = await d.domainGetState(t, 0);
            assert.equal(st.state, 1);
            assert.match(await d.domainGetXMLDesc(t, 0), /<name>test<\/name>/);
            calls += 4;
          }
        } catch (err) {
          failures.push(`client ${i}: ${(err as Error).message}`);
        }
      }
      // Every define/undefine this client made came back to it as two events.
      const until = Date.now() + 5000;
      while (events.length < cycles * 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      if (events.length !== cycles * 2) failures.push(`client ${i}: ${events.length} events for ${cycles} cycles`);
      await d.domainEventDeregisterAny(cb);
    });
    await Promise.all(work);
    await Promise.all(clients.map((c) => c.close()));
    assert.deepEqual(failures, []);
    assert.ok(calls > CLIENTS * 10, `only ${calls} calls`);
    process.stdout.write(`# ${calls} calls by ${CLIENTS} clients in ${SECONDS} s\n`);
  });
});

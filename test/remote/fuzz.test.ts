// Robustness: ≥ 10 000 malformed frames of every kind at tsvirtd's server core — random bytes,
// truncations, wrong lengths, wrong program/version/type/status, huge counts and random
// argument bytes for every procedure — and afterwards it answers a valid call, has not crashed,
// holds no leftover connections and its memory stayed bounded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { connectOpenFrame, contentFrame, framingFrame, rng, sendFrames as send } from '../helpers/malformedFrames.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { startProxy, type Proxy } from './proxy.js';

const skip = libvirtdSkipReason();
const FRAMES = Number(process.env.TSVIRT_FUZZ_FRAMES ?? 12000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('fuzzing the server core', { skip }, () => {
  let lvd: PrivateLibvirtd;
  let px: Proxy;
  before(async () => {
    lvd = await startLibvirtd({ tag: 'rpc' });
    px = await startProxy(lvd);
  });
  after(async () => {
    await px?.close();
    await lvd?.stop();
  });

  test(`${FRAMES} malformed frames: no crash, a valid call answers, memory bounded`, async () => {
    const r = rng(20240917);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let sent = 0;
    let replyBytes = 0;
    while (sent < FRAMES) {
      // Framing breakers, each on a connection of its own.
      const breakers = Array.from({ length: 10 }, () => framingFrame(r));
      await Promise.all(breakers.map((f) => send(px.socket, [f], r.int(2) === 0)));
      sent += breakers.length;
      // A batch of content faults on one connection, some after CONNECT_OPEN.
      const batch: Buffer[] = [];
      if (r.int(2)) batch.push(connectOpenFrame('test:///default'));
      for (let i = 0; i < 90; i++) batch.push(contentFrame(r, i + 1));
      replyBytes += await send(px.socket, batch, true);
      sent += 90;
    }
    assert.ok(sent >= FRAMES);
    // It answered the framing-intact faults with error replies.
    assert.ok(replyBytes > 0);
    // Every fuzzing connection is gone.
    const end = Date.now() + 5000;
    while (px.server.clients.size > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
    assert.equal(px.server.clients.size, 0);
    // A valid client gets its answers.
    const d = await RemoteDriver.open(px.uri());
    assert.equal(await d.getType(), 'TEST');
    assert.equal((await d.domainLookupByName('test')).name, 'test');
    await d.close();
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB`);
    // Bad length words were seen and logged as such.
    assert.ok(px.logs.filter((l) => /too (small|large)/.test(l)).length > 100);
    // Nothing the server logged is an unexpected failure (stack traces, cleanup errors).
    assert.deepEqual(px.logs.filter((l) => l.startsWith('error:')), []);
  });
});

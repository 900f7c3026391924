// Robustness of tsvirtd itself (the process, not only its server core): ≥ 10 000 malformed
// frames — random bytes, truncations, wrong length words, wrong program/version/type/status,
// unknown procedures, huge counts and random argument bytes for every procedure, before and
// after CONNECT_OPEN, on the read-write and read-only sockets — then the daemon is alive,
// answers a valid call, logged no unexpected failure, holds no stray clients, and its memory
// stayed bounded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { connectOpenFrame, contentFrame, framingFrame, rng, sendFrames as send } from '../helpers/malformedFrames.js';
import { isRoot } from '../helpers/system.js';
import { startTsvirtd, type RunningTsvirtd } from './tsvirtd.js';

const FRAMES = Number(process.env.TSVIRT_FUZZ_FRAMES ?? 12000);

describe('fuzzing tsvirtd', { skip: isRoot ? false : 'needs root' }, () => {
  let d: RunningTsvirtd;
  before(async () => {
    d = await startTsvirtd({ tag: 'fuzz' });
  });
  after(async () => {
    await d?.stop();
  });

  test(`${FRAMES} malformed frames: alive, a valid call answers, memory bounded`, { timeout: 600000 }, async () => {
    const r = rng(20261123);
    let sent = 0;
    let replyBytes = 0;
    const round = async () => {
      const breakers = Array.from({ length: 10 }, () => framingFrame(r));
      await Promise.all(breakers.map((f) => send(r.int(4) ? d.socket : d.roSocket!, [f], r.int(2) === 0)));
      sent += breakers.length;
      const batch: Buffer[] = [];
      const which = r.int(3);
      if (which === 1) batch.push(connectOpenFrame('test:///default'));
      if (which === 2) batch.push(connectOpenFrame('qemu:///system'));
      for (let i = 0; i < 90; i++) batch.push(contentFrame(r, i + 1));
      replyBytes += await send(r.int(4) ? d.socket : d.roSocket!, batch, true);
      sent += 90;
    };
    // Warm up (code compiled, QEMU driver state loaded), then take the baseline.
    for (let i = 0; i < 5; i++) await round();
    const rssBefore = d.rssKiB();
    while (sent < FRAMES) await round();
    assert.ok(sent >= FRAMES);
    assert.ok(replyBytes > 0, 'the framing-intact faults were answered');
    assert.equal(d.proc.exitCode, null, 'tsvirtd is alive');
    // A valid client gets its answers, on both drivers.
    const t = await RemoteDriver.open(d.uri('test', '/default'));
    assert.equal(await t.getType(), 'TEST');
    assert.equal((await t.domainLookupByName('test')).name, 'test');
    await t.close();
    const q = await RemoteDriver.open(d.uri('qemu', '/system'));
    assert.equal(await q.getType(), 'QEMU');
    await q.close();
    const rssAfter = d.rssKiB();
    process.stdout.write(`# ${sent} frames; tsvirtd RSS ${(rssBefore / 1024).toFixed(1)} MiB before, ${(rssAfter / 1024).toFixed(1)} MiB after\n`);
    assert.ok(rssAfter - rssBefore < 48 * 1024, `RSS grew by ${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB`);
    const log = d.log();
    assert.ok((log.match(/too (small|large)/g) ?? []).length > 100, 'bad length words were seen');
    assert.deepEqual(log.split('\n').filter((l) => / error : /.test(l)), [], 'no unexpected failure logged');
  });
});

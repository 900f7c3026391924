// Keepalive timing with fake timers: PING after `interval` idle seconds, any received message
// restarts the wait, `count` unanswered PINGs declare the peer dead.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { decodeHeader, KEEPALIVE_PROGRAM, MessageType } from '../../src/rpc/message.js';
import { KeepAlive, PING_FRAME, PONG_FRAME, isKeepalive } from '../../src/rpc/keepalive.js';

test('PING and PONG are 28-byte MESSAGEs of the keepalive program with serial 0', () => {
  assert.equal(PING_FRAME.toString('hex'), '0000001c' + '6b656570' + '00000001' + '00000001' + '00000002' + '00000000' + '00000000');
  assert.equal(PONG_FRAME.toString('hex'), '0000001c' + '6b656570' + '00000001' + '00000002' + '00000002' + '00000000' + '00000000');
  const h = decodeHeader(PING_FRAME.subarray(4));
  assert.equal(h.prog, KEEPALIVE_PROGRAM);
  assert.equal(h.type, MessageType.MESSAGE);
  assert.ok(isKeepalive(h));
});

function harness(interval: number, count: number) {
  const events: string[] = [];
  const ka = new KeepAlive({
    interval,
    count,
    sendPing: () => events.push(`ping@${Date.now()}`),
    onDead: () => events.push(`dead@${Date.now()}`),
  });
  return { ka, events };
}

test('an idle peer gets a PING every interval and is dead after count unanswered PINGs', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const { ka, events } = harness(5, 5);
  ka.start();
  t.mock.timers.tick(4999);
  assert.deepEqual(events, []);
  t.mock.timers.tick(1);
  assert.deepEqual(events, ['ping@5000']);
  for (let i = 0; i < 5; i++) t.mock.timers.tick(5000);
  assert.deepEqual(events, ['ping@5000', 'ping@10000', 'ping@15000', 'ping@20000', 'ping@25000', 'dead@30000']);
  assert.equal(ka.running, false);
});

test('every received message restarts the idle wait and the count', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const { ka, events } = harness(5, 2);
  ka.start();
  t.mock.timers.tick(3000);
  ka.received();
  t.mock.timers.tick(2000); // timer fires at 5 s but only 2 s idle: waits until 8 s
  assert.deepEqual(events, []);
  t.mock.timers.tick(3000);
  assert.deepEqual(events, ['ping@8000']);
  t.mock.timers.tick(5000);
  assert.deepEqual(events, ['ping@8000', 'ping@13000']);
  ka.received(); // the PONG, late
  t.mock.timers.tick(5000);
  t.mock.timers.tick(5000);
  assert.deepEqual(events, ['ping@8000', 'ping@13000', 'ping@18000', 'ping@23000']);
  t.mock.timers.tick(5000);
  assert.deepEqual(events.at(-1), 'dead@28000');
});

test('stop() cancels; interval 0 never starts', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const a = harness(5, 1);
  a.ka.start();
  a.ka.stop();
  t.mock.timers.tick(60000);
  assert.deepEqual(a.events, []);
  const b = harness(0, 1);
  b.ka.start();
  assert.equal(b.ka.running, false);
});

void mock;

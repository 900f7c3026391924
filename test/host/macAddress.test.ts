// MAC text as the host layer takes it: conf's parser, plus a line read from a file and a kernel
// buffer longer than 6 bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorNumber } from '../../src/errors/index.js';
import { formatMac, isZeroMac, macBytes, normalizeMac, parseMac } from '../../src/host/macAddress.js';

test('host MAC text: whitespace around it tolerated, canonical lowercase out', () => {
  assert.equal(normalizeMac('52:54:0:AB:cd:1\n'), '52:54:00:ab:cd:01');
  assert.deepEqual(parseMac(' fe:00:00:00:00:01 '), Uint8Array.of(0xfe, 0, 0, 0, 0, 1));
  assert.equal(parseMac('52:54:00:ab:cd'), null);
  assert.equal(normalizeMac('52-54-00-ab-cd-01'), null);
  assert.equal(isZeroMac('0:0:0:0:0:0'), true);
  assert.equal(isZeroMac('02:00:00:00:00:00'), false);
  assert.equal(isZeroMac('not a mac'), false);
});

test('a kernel buffer is formatted by its first 6 bytes (IFLA_VF_MAC holds 32)', () => {
  const buf = new Uint8Array(32);
  buf.set([0x52, 0x54, 0x00, 0x07, 0x07, 0x07]);
  buf[6] = 0xff;
  assert.equal(formatMac(buf), '52:54:00:07:07:07');
});

test('macBytes: what a driver hands over, or INVALID_ARG naming the text', () => {
  assert.deepEqual(macBytes('52:54:00:12:34:56'), Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56));
  assert.throws(() => macBytes('52:54:00:12:34:567'), {
    code: ErrorNumber.INVALID_ARG,
    message: "invalid argument: unable to parse mac address '52:54:00:12:34:567'",
    fault: { value: '52:54:00:12:34:567' },
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  formatMacAddr,
  generateMacAddr,
  generateMacAddrString,
  isMulticastMac,
  isUnicastMac,
  isZeroMac,
  macAddrEqual,
  macAddrTextEqual,
  normalizeMacAddr,
  parseMacAddr,
  tapHostMac,
} from '../../src/conf/macAddr.js';

test('parseMacAddr accepts one or two hex digits per byte, any case (virMacAddrParse)', () => {
  assert.deepEqual(parseMacAddr('0:1E:FC:E:3a:CB'), Uint8Array.of(0x00, 0x1e, 0xfc, 0x0e, 0x3a, 0xcb));
  assert.equal(normalizeMacAddr('52:54:0:A:b:C'), '52:54:00:0a:0b:0c');
});

test('parseMacAddr refuses what libvirt refuses', () => {
  for (const bad of [
    '',
    '52:54:00:00:00',
    '52:54:00:00:00:00:00',
    '52:54:00:00:00:100',
    '52-54-00-00-00-00',
    ' 52:54:00:00:00:00',
    '52:54:00:00:00:00 ',
    '+2:54:00:00:00:00',
    '52::00:00:00:00',
    '0x2:54:00:00:00:00',
    'g2:54:00:00:00:00',
    '52:54:00:00:00:0:',
  ]) {
    assert.equal(parseMacAddr(bad), undefined, bad);
  }
});

test('multicast, unicast and all-zero', () => {
  assert.equal(isMulticastMac('01:00:5e:00:00:01'), true);
  assert.equal(isUnicastMac('01:00:5e:00:00:01'), false);
  assert.equal(isMulticastMac('52:54:00:00:00:01'), false);
  assert.equal(isMulticastMac('ff:ff:ff:ff:ff:ff'), true);
  assert.equal(isZeroMac('00:00:00:00:00:00'), true);
  assert.equal(isZeroMac('0:0:0:0:0:0'), true);
  assert.equal(isZeroMac('00:00:00:00:00:01'), false);
  assert.throws(() => isZeroMac('nope'), RangeError);
});

test('generated MACs carry the QEMU prefix and random low bytes', () => {
  const m = generateMacAddr(undefined, () => Uint8Array.of(0xaa, 0xbb, 0xcc));
  assert.equal(formatMacAddr(m), '52:54:00:aa:bb:cc');
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const s = generateMacAddrString();
    assert.match(s, /^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    assert.equal(isUnicastMac(s), true);
    seen.add(s);
  }
  assert.ok(seen.size > 40, 'random bytes vary');
});

test('host side of a tap: first byte 0xFE, or 0xFA when the guest MAC starts with 0xFE', () => {
  assert.equal(formatMacAddr(tapHostMac('52:54:00:12:34:56')), 'fe:54:00:12:34:56');
  assert.equal(formatMacAddr(tapHostMac('fe:54:00:12:34:56')), 'fa:54:00:12:34:56');
  assert.equal(formatMacAddr(tapHostMac('fa:54:00:12:34:56')), 'fe:54:00:12:34:56');
  const guest = parseMacAddr('52:54:00:01:02:03')!;
  tapHostMac(guest);
  assert.equal(formatMacAddr(guest), '52:54:00:01:02:03', 'the guest MAC is not modified');
});

test('macAddrEqual ignores case and leading zeros', () => {
  assert.equal(macAddrEqual('52:54:0:A:b:C', '52:54:00:0a:0B:0c'), true);
  assert.equal(macAddrEqual('52:54:00:0a:0b:0c', '52:54:00:0a:0b:0d'), false);
});

test('macAddrTextEqual compares text as virMacAddrCompare does, valid or not', () => {
  assert.equal(macAddrTextEqual('AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:0ff'), true);
  assert.equal(macAddrTextEqual('52:54:0:a:b:c', '52:54:00:0A:0b:0c'), true);
  // Only a zero before a hex digit is dropped: "a0:" keeps its zero.
  assert.equal(macAddrTextEqual('a0:bb', 'a:bb'), false);
  // No other separator stands for ':'.
  assert.equal(macAddrTextEqual('aa-bb-cc-dd-ee-ff', 'aa:bb:cc:dd:ee:ff'), false);
  assert.equal(macAddrTextEqual('xyz', 'XYZ'), true);
});

test('format/parse round trip (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
      const s = formatMacAddr(bytes);
      assert.match(s, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.deepEqual(parseMacAddr(s), bytes);
      assert.deepEqual(parseMacAddr(s.toUpperCase()), bytes);
      const host = tapHostMac(bytes);
      assert.ok(host[0] === 0xfe || host[0] === 0xfa);
      assert.notEqual(host[0], bytes[0] === 0xfe ? 0xfe : -1);
      assert.deepEqual(host.slice(1), bytes.slice(1));
    }),
  );
});

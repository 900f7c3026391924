import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatUuid, generateUuid, generateUuidString, isValidHostUuid, normalizeUuid, parseUuid, uuidEqual } from '../../src/conf/uuid.js';

const CANON = 'c7a5fdbd-edaf-9455-926a-d65c16db1809';

test('parseUuid takes the canonical form and libvirt\'s liberal variants', () => {
  for (const s of [
    CANON,
    CANON.toUpperCase(),
    'c7a5fdbdedaf9455926ad65c16db1809',
    '  c7a5fdbd-edaf-9455-926a-d65c16db1809\n',
    'c7-a5-fd-bd-ed-af-94-55-92-6a-d6-5c-16-db-18-09',
    'c7 a5 fd bd ed af 94 55 92 6a d6 5c 16 db 18 09',
    '-c7a5fdbd--edaf-9455-926a-d65c16db1809',
  ]) {
    assert.equal(normalizeUuid(s), CANON, JSON.stringify(s));
  }
});

test('parseUuid refuses what virUUIDParse refuses', () => {
  for (const s of [
    '',
    'c7a5fdbd-edaf-9455-926a-d65c16db180',
    'c7a5fdbd-edaf-9455-926a-d65c16db18090',
    'c7a5fdbd-edaf-9455-926a-d65c16db1809-',
    '{c7a5fdbd-edaf-9455-926a-d65c16db1809}',
    'c7a5fdbd-edaf-9455-926a-d65c16db18g9',
    'c-7a5fdbd-edaf-9455-926a-d65c16db1809',
    'c7a5fdbd-edaf-9455-926a-d65c16db1809 x',
  ]) {
    assert.equal(parseUuid(s), undefined, JSON.stringify(s));
  }
});

test('generated UUIDs are random RFC 4122 version 4', () => {
  const fixed = generateUuid(() => new Uint8Array(16).fill(0xff));
  assert.equal(formatUuid(fixed), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
  const a = generateUuidString();
  const b = generateUuidString();
  assert.notEqual(a, b);
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('host UUID validity: not all bytes equal', () => {
  assert.equal(isValidHostUuid(new Uint8Array(16)), false);
  assert.equal(isValidHostUuid(new Uint8Array(16).fill(0xff)), false);
  assert.equal(isValidHostUuid(parseUuid(CANON)!), true);
});

test('uuidEqual compares the bytes', () => {
  assert.equal(uuidEqual(CANON, CANON.toUpperCase().replace(/-/g, '')), true);
  assert.equal(uuidEqual(CANON, generateUuid()), false);
  assert.equal(uuidEqual('junk', 'junk'), false);
});

test('raw/text round trip (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (raw) => {
      const s = formatUuid(raw);
      assert.deepEqual(parseUuid(s), raw);
      assert.deepEqual(parseUuid(s.replace(/-/g, '')), raw);
      assert.equal(formatUuid(parseUuid(s)!), s);
    }),
  );
});

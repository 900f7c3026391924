// Bad input never crashes the parser: any mutation of a valid document is either accepted or
// refused with a VirtError (the daemon answers every define with a libvirt error, never a
// TypeError).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { VirtError } from '../../../src/errors/index.js';
import { formatDomainXML, parseDomainXML } from '../../../src/conf/domain/index.js';
import { testDomainDefaults } from '../../../src/drivers/test/domainDefaults.js';
import { fixtures, readFixture } from './helpers.js';

const docs = fixtures().map(readFixture);

/** Attribute values and texts that stress the parsers: empty, signs, huge, hex, junk. */
const nasty = fc.constantFrom('', '-1', '0', '00', '+5', ' 7', '0x1f', '99999999999999999999', '4294967296', 'yes', 'no', 'on', 'x', '../..', '&amp;', '1.5', 'NaN');

test('mutated documents are accepted or refused with a VirtError, never a crash', () => {
  fc.assert(
    fc.property(fc.nat({ max: docs.length - 1 }), fc.nat(), nasty, fc.boolean(), (di, pos, value, validate) => {
      const doc = docs[di]!;
      // replace the n-th attribute value or text node by a nasty value
      const slots = [...doc.matchAll(/='([^']*)'|>([^<]+)</g)];
      if (!slots.length) return;
      const m = slots[pos % slots.length]!;
      const start = m.index! + (m[1] !== undefined ? 2 : 1);
      const len = (m[1] ?? m[2])!.length;
      const mutated = doc.slice(0, start) + value.replace(/'/g, '&apos;') + doc.slice(start + len);
      try {
        const def = parseDomainXML(mutated, { driver: testDomainDefaults, validate });
        // what was accepted can be written out and read back
        const out = formatDomainXML(def, { driver: testDomainDefaults, secure: true });
        parseDomainXML(out, { driver: testDomainDefaults });
      } catch (e) {
        assert.ok(e instanceof VirtError, `${String(e)}\n${(e as Error).stack}\nin:\n${mutated}`);
      }
    }),
    { numRuns: 3000 },
  );
});

test('dropping any element of a document never crashes the parser', () => {
  fc.assert(
    fc.property(fc.nat({ max: docs.length - 1 }), fc.nat(), (di, pos) => {
      const doc = docs[di]!;
      const els = [...doc.matchAll(/<([a-zA-Z:_-]+)[^>]*\/>/g)];
      if (!els.length) return;
      const m = els[pos % els.length]!;
      const mutated = doc.slice(0, m.index!) + doc.slice(m.index! + m[0].length);
      try {
        parseDomainXML(mutated, { driver: testDomainDefaults });
      } catch (e) {
        assert.ok(e instanceof VirtError, `${String(e)}\n${(e as Error).stack}\nin:\n${mutated}`);
      }
    }),
    { numRuns: 1000 },
  );
});

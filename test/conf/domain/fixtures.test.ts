// Every fixture: tsvirt's define+dumpxml equals the recorded output of real libvirt's test
// driver, the output is a fixed point of parse+format, and (when virsh is here) equals what
// virsh prints right now.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { skipUnless } from '../../helpers/system.js';
import { defineLikeTestDriver, dumpxml, fixtureDir, fixtures, readFixture, virshDefineDump } from './helpers.js';

const noUuid = (s: string): string => s.replace(/<uuid>[^<]*<\/uuid>/, '<uuid/>');

test('the fixture corpus has at least 40 documents', () => {
  assert.ok(fixtures().length >= 40, `only ${fixtures().length} fixtures`);
});

for (const f of fixtures()) {
  const outFile = join(fixtureDir, f.replace(/\.xml$/, '.out.xml'));
  test(`fixture ${f}: dumpxml equals libvirt's recorded output`, () => {
    assert.ok(existsSync(outFile), `${outFile} missing: run test/fixtures/domain/regen.sh`);
    const out = dumpxml(defineLikeTestDriver(readFixture(f)));
    assert.equal(out, readFileSync(outFile, 'utf8'));
  });

  test(`fixture ${f}: format(parse(x)) is a fixed point`, () => {
    // with secrets included (dumpxml --security-info), nothing is lost on the way round
    const once = dumpxml(defineLikeTestDriver(readFixture(f)), true);
    const twice = dumpxml(defineLikeTestDriver(once), true);
    assert.equal(twice, once);
  });

  test(`fixture ${f}: equals real virsh on test:///default`, { skip: skipUnless({ commands: ['virsh'] }) }, () => {
    const real = virshDefineDump(join(fixtureDir, f));
    assert.ok(real.ok, real.out);
    const ours = dumpxml(defineLikeTestDriver(readFixture(f)));
    const hasUuid = /<uuid>/.test(readFixture(f));
    assert.equal(hasUuid ? ours : noUuid(ours), hasUuid ? real.out : noUuid(real.out));
  });
}

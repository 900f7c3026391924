// Golden tests of the QEMU driver's define defaults and command line: for each fixture NAME.xml,
// define + dumpxml equals real libvirt's (NAME.out.xml, from regen.sh) and the argv equals
// NAME.args. TSVIRT_REGEN=1 rewrites the argv goldens instead of comparing.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defineFixture, fixtureCommandLine, fixtureDir, fixtureNames, formatArgs, inactiveXml, parseArgs, readFixture } from './qemuFixtures.js';

const regen = process.env.TSVIRT_REGEN === '1';

test('there are QEMU fixtures', () => {
  assert.ok(fixtureNames().length >= 8);
});

for (const name of fixtureNames()) {
  test(`${name}: define + dumpxml equals libvirt's`, () => {
    const out = join(fixtureDir, `${name}.out.xml`);
    assert.ok(existsSync(out), `${out} missing: run test/fixtures/qemu/regen.sh`);
    assert.equal(inactiveXml(defineFixture(readFixture(name))), readFixture(name, '.out.xml'));
  });

  test(`${name}: argv equals ${name}.args`, () => {
    const { cmd } = fixtureCommandLine(name);
    const text = formatArgs(cmd);
    assert.deepEqual(parseArgs(text), [cmd.binary, ...cmd.args], 'the golden format reads back');
    const file = join(fixtureDir, `${name}.args`);
    if (regen) writeFileSync(file, text);
    assert.ok(existsSync(file), `${file} missing: run with TSVIRT_REGEN=1`);
    assert.equal(text, readFixture(name, '.args'));
  });
}

// Bad documents are refused with the error real libvirt gives: the same code and error domain,
// and the same message (for malformed XML: the same position and source line; the parser's
// own wording differs from libxml2's). Expected errors come from bad/regen.py (python-libvirt).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtError, ErrorNumber } from '../../../src/errors/index.js';
import { badDir, defineLikeTestDriver, hasPythonLibvirt } from './helpers.js';
import { spawnSync } from 'node:child_process';

const docs = readdirSync(badDir).filter((f) => f.endsWith('.xml')).sort();

function expected(f: string): { code: number; domain: number; message: string } {
  const text = readFileSync(join(badDir, f.replace(/\.xml$/, '.err')), 'utf8');
  const nl = text.indexOf('\n');
  const [code, domain] = text.slice(0, nl).split(' ').map(Number) as [number, number];
  return { code, domain, message: text.slice(nl + 1, -1) };
}

function ours(f: string): VirtError {
  const xml = readFileSync(join(badDir, f), 'utf8');
  try {
    defineLikeTestDriver(xml, f.includes('-validate'));
  } catch (e) {
    assert.ok(e instanceof VirtError, `not a VirtError: ${String(e)}`);
    return e;
  }
  assert.fail(`${f} was accepted`);
}

function same(f: string, exp: { code: number; domain: number; message: string }, got: VirtError): void {
  assert.equal(got.code, exp.code, `code of ${f}: ${got.message}`);
  assert.equal(got.domain, exp.domain, `domain of ${f}: ${got.message}`);
  if (exp.code === ErrorNumber.XML_DETAIL && /^\(domain_definition\):\d+: /.test(exp.message)) {
    const [eHead, ...eRest] = exp.message.split('\n');
    const [gHead, ...gRest] = got.message.split('\n');
    assert.equal(gHead!.replace(/: .*/, ''), eHead!.replace(/: .*/, ''), 'line of the error');
    assert.equal(gRest[0], eRest[0], 'source line quoted');
  } else if (exp.code === ErrorNumber.XML_INVALID_SCHEMA) {
    // libxml2's RNG validator words deep errors by its own grammar walk; tsvirt names the
    // unknown element or attribute instead. The first line (the schema) is the same.
    assert.equal(got.message.split('\n')[0], exp.message.split('\n')[0]);
    assert.match(got.message, /\n(Invalid attribute \S+ for element \S+|Element \S+ has extra content: \S+)\n$/);
  } else {
    assert.equal(got.message, exp.message);
  }
}

test('there are bad documents', () => assert.ok(docs.length >= 10));

for (const f of docs) {
  test(`bad document ${f} is refused as libvirt refuses it`, () => same(f, expected(f), ours(f)));
}

test('bad documents: tsvirt matches live python-libvirt on test:///default', { skip: hasPythonLibvirt() ? false : 'needs python3-libvirt' }, () => {
  const r = spawnSync('/usr/bin/python3', [join(badDir, 'regen.py'), '--print'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; err: string });
  assert.equal(lines.length, docs.length);
  for (const { file, err } of lines) {
    assert.notEqual(err, 'DEFINED\n', `libvirt accepts ${file}`);
    const nl = err.indexOf('\n');
    const [code, domain] = err.slice(0, nl).split(' ').map(Number) as [number, number];
    same(file, { code, domain, message: err.slice(nl + 1, -1) }, ours(file));
  }
});

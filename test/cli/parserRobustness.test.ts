// The shell's parser on arbitrary input: it answers with a parse error or commands, and never
// throws anything but a reported error (property-based, fast-check).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { registry } from '../../src/cli/commandTable.js';
import { Shell } from '../../src/cli/shell.js';
import { tokenize, TokenizeError } from '../../src/cli/tokenizer.js';

const words = ['list', 'dominfo', 'define', 'net-list', 'help', 'event', '--all', '--name', '--domain', '--', '-', ';', '#', '"', "'", '\\', '=', ' ', '\t', '\n', 'test', '--reason=x', '--timeout'];
const line = fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 6 })), { maxLength: 12 }).map((a) => a.join(''));

test('tokenize: quotes and escapes round-trip simple words; errors are TokenizeErrors', () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { minLength: 1, maxLength: 6 }), (ws) => {
      const quoted = ws.map((w, i) => (i % 3 === 0 ? `'${w}'` : i % 3 === 1 ? `"${w}"` : w)).join(' ');
      assert.deepEqual(tokenize(quoted), [ws]);
    }),
  );
  fc.assert(
    fc.property(line, (s) => {
      try {
        tokenize(s);
      } catch (e) {
        assert.ok(e instanceof TokenizeError);
      }
    }),
  );
});

test('parseString never throws: a command list or a printed error', async () => {
  const err: string[] = [];
  const sh = new Shell({ io: { out: () => undefined, err: (s) => void err.push(s) }, registry });
  await fc.assert(
    fc.asyncProperty(line, async (s) => {
      err.length = 0;
      const cmds = await sh.parseString(s);
      if (cmds === null) assert.match(err.join(''), /^error: [\s\S]+\n$/);
      else assert.equal(err.length, 0);
    }),
    { numRuns: 500 },
  );
});

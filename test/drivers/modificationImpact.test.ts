// virDomainObjUpdateModificationImpact / virDomainObjGetOneDef as every local driver applies them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modificationImpact, oneDef } from '../../src/drivers/modificationImpact.js';
import { ErrorDomain, ErrorNumber, VirtError } from '../../src/errors/index.js';

const CURRENT = 0;
const LIVE = 1;
const CONFIG = 2;

function refusal(code: number, message: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof VirtError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.domain, ErrorDomain.DOMAIN);
    assert.equal(err.message, message);
    return true;
  };
}

test('CURRENT means live on a running domain, config on a shut-off one', () => {
  assert.deepEqual(modificationImpact({ active: true, persistent: true }, CURRENT), { live: true, config: false });
  assert.deepEqual(modificationImpact({ active: false, persistent: true }, CURRENT), { live: false, config: true });
  assert.deepEqual(modificationImpact({ active: true, persistent: true }, LIVE | CONFIG), { live: true, config: true });
});

test('live on a shut-off domain and config on a transient one are refused with libvirt words', () => {
  assert.throws(
    () => modificationImpact({ active: false, persistent: true }, LIVE),
    refusal(ErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: domain is not running'),
  );
  assert.throws(
    () => modificationImpact({ active: true, persistent: false }, CONFIG),
    refusal(ErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: transient domains do not have any persistent config'),
  );
});

test('oneDef: the live definition, or newDef for config while running; never both flags', () => {
  const running = { active: true, persistent: true, def: 'live', newDef: 'next' };
  assert.equal(oneDef(running, CURRENT), 'live');
  assert.equal(oneDef(running, CONFIG), 'next');
  assert.equal(oneDef({ active: false, persistent: true, def: 'saved', newDef: null }, CURRENT), 'saved');
  assert.throws(
    () => oneDef(running, LIVE | CONFIG),
    refusal(ErrorNumber.INVALID_ARG, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"),
  );
});

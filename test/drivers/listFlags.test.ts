// The virConnectListAll* filters every driver shares: flag pairs, the domain state flags and
// the pool type flags, as libvirt's object lists apply them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectListAllDomainsFlags as LD, ConnectListAllStoragePoolsFlags as LP, DomainState } from '../../src/drivers/constants.js';
import { domainMatchesListFlags, networkMatchesListFlags, poolMatchesListFlags } from '../../src/drivers/listFlags.js';

const running = { active: true, persistent: true, state: DomainState.RUNNING, autostart: false };
const crashed = { active: true, persistent: false, state: DomainState.CRASHED, autostart: true };
const off = { active: false, persistent: true, state: DomainState.SHUTOFF, autostart: false, hasManagedSave: true };

test('domains: a pair with neither flag passes all, with one or both flags the objects that match', () => {
  for (const d of [running, crashed, off]) assert.equal(domainMatchesListFlags(0, d), true);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.ACTIVE, d)), [true, true, false]);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.ACTIVE | LD.INACTIVE, d)), [true, true, true]);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.TRANSIENT, d)), [false, true, false]);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.AUTOSTART, d)), [false, true, false]);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.MANAGEDSAVE, d)), [false, false, true]);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.NO_MANAGEDSAVE, d)), [true, true, false]);
});

test('domains: state flags, OTHER for every state but running, paused and shut off; pairs combine with AND', () => {
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.OTHER, d)), [false, true, false]);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.RUNNING | LD.SHUTOFF, d)), [true, false, true]);
  assert.deepEqual([running, crashed, off].map((d) => domainMatchesListFlags(LD.ACTIVE | LD.SHUTOFF, d)), [false, false, false]);
  // No snapshot or checkpoint exists: HAS_* matches nothing, NO_* everything.
  assert.equal(domainMatchesListFlags(LD.HAS_SNAPSHOT, running), false);
  assert.equal(domainMatchesListFlags(LD.NO_CHECKPOINT, running), true);
});

test('networks and pools: the active, persistent and autostart pairs; pools also by type', () => {
  const n = { active: false, persistent: true, autostart: true };
  assert.equal(networkMatchesListFlags(2 /* ACTIVE */, n), false);
  assert.equal(networkMatchesListFlags(1 | 4 | 16 /* INACTIVE|PERSISTENT|AUTOSTART */, n), true);
  const pool = { ...n, type: 'logical' };
  assert.equal(poolMatchesListFlags(LP.LOGICAL, pool), true);
  assert.equal(poolMatchesListFlags(LP.DIR | LP.FS, pool), false);
  assert.equal(poolMatchesListFlags(LP.DIR | LP.LOGICAL | LP.INACTIVE, pool), true);
});

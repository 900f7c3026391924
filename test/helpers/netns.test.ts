import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { enterTestNetns } from './netns.js';
import { skipUnless } from './system.js';

test('a test network namespace isolates links and is removed on leave', { skip: skipUnless({ root: true, commands: ['ip'] }) }, () => {
  const ns = enterTestNetns('self');
  try {
    execFileSync('ip', ['link', 'add', 'tsvbr0', 'type', 'bridge']);
    const inside = execFileSync('ip', ['-o', 'link', 'show']).toString();
    assert.match(inside, /tsvbr0/);
  } finally {
    ns.leave();
  }
  assert.doesNotMatch(execFileSync('ip', ['-o', 'link', 'show']).toString(), /tsvbr0/);
  assert.doesNotMatch(execFileSync('ip', ['netns', 'list']).toString(), new RegExp(ns.name));
});

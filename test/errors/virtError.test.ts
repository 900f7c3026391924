import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Errno,
  ErrorDomain,
  ErrorNumber,
  VirtError,
  errnoByName,
  errnoNames,
  errnoOf,
  fromSystemError,
  strerror,
  systemError,
  virtError,
} from '../../src/errors/index.js';

test('virtError fills the message from libvirt templates', () => {
  const e = virtError(ErrorNumber.NO_DOMAIN, ErrorDomain.QEMU, "no domain with matching name 'x'");
  assert.equal(e.message, "Domain not found: no domain with matching name 'x'");
  assert.equal(e.code, 42);
  assert.equal(e.domain, 10);
  assert.equal(e.str1, 'Domain not found: %s');
  assert.equal(e.str2, "no domain with matching name 'x'");
  assert.equal(e.codeName, 'NO_DOMAIN');
  assert.equal(e.domainName, 'QEMU');
  assert.equal(e.level, 2);
  assert.equal(e.int1, -1);
  assert.ok(e instanceof VirtError);
  assert.ok(e instanceof Error);
});

test('virtError without detail uses the short message', () => {
  const e = virtError(ErrorNumber.NO_NAME, ErrorDomain.DOMAIN);
  assert.equal(e.message, 'missing name information');
  assert.equal(e.str1, 'missing name information');
  assert.equal(e.str2, null);
});

test('templates with the detail in the middle', () => {
  assert.equal(virtError(ErrorNumber.DOM_EXIST, ErrorDomain.DOMAIN, 'foo').message, 'domain foo exists already');
  assert.equal(virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, 'raw').message, 'raw');
});

test('the detail is inserted as written, `$` patterns included', () => {
  const name = "a$&b$'c$1";
  const e = virtError(ErrorNumber.NO_DOMAIN, ErrorDomain.QEMU, `no domain with matching name '${name}'`);
  assert.equal(e.message, `Domain not found: no domain with matching name '${name}'`);
  assert.equal(virtError(ErrorNumber.DOM_EXIST, ErrorDomain.DOMAIN, '$`x').message, 'domain $`x exists already');
});

test('systemError appends glibc strerror text and records errno', () => {
  const e = systemError(ErrorDomain.NONE, 1, 'Cannot set interface vlanid to 42 for ifname pf vf 1');
  assert.equal(e.message, 'Cannot set interface vlanid to 42 for ifname pf vf 1: Operation not permitted');
  assert.equal(e.code, ErrorNumber.SYSTEM_ERROR);
  assert.equal(e.int1, 1);
  assert.equal(e.fault.errno, 1);
  assert.equal(strerror(99), 'Cannot assign requested address');
  assert.equal(strerror(34), 'Numerical result out of range');
});

test('fromSystemError maps Node errors by errno or code', () => {
  const nodeErr = Object.assign(new Error('ENOENT: no such file'), { errno: -2, code: 'ENOENT' });
  const e = fromSystemError(nodeErr, ErrorDomain.QEMU, 'cannot read /x');
  assert.equal(e.message, 'cannot read /x: No such file or directory');
  assert.equal(errnoOf({ code: 'EPERM' }), 1);
  const passthrough = virtError(ErrorNumber.RPC, ErrorDomain.RPC, 'x');
  assert.equal(fromSystemError(passthrough, ErrorDomain.QEMU, 'y'), passthrough);
  const other = fromSystemError(new Error('boom'), ErrorDomain.QEMU, 'while starting');
  assert.equal(other.code, ErrorNumber.INTERNAL_ERROR);
  assert.equal(other.message, 'internal error: while starting: boom');
});

test('errno names and numbers: one table, aliases as Node names them', () => {
  assert.equal(Errno.ENODEV, 19);
  assert.equal(errnoNames[19], 'ENODEV');
  assert.equal(errnoByName('EADDRNOTAVAIL'), 99);
  // Node reports 11 as EAGAIN and 95 as ENOTSUP; the aliases find the same numbers.
  assert.equal(errnoNames[11], 'EAGAIN');
  assert.equal(errnoByName('EWOULDBLOCK'), 11);
  assert.equal(errnoByName('EOPNOTSUPP'), 95);
  assert.equal(errnoNames[95], 'ENOTSUP');
  assert.equal(errnoByName('toString'), undefined);
  assert.equal(errnoByName('EAI_AGAIN'), undefined);
  for (const [num, name] of Object.entries(errnoNames)) assert.equal(errnoByName(name), Number(num));
  assert.equal(strerror(Errno.EHWPOISON), 'Memory page has hardware error');
});

test('instanceof holds across copies through the shared brand', () => {
  const foreign = Object.create({ [Symbol.for('tsvirt.VirtError')]: true });
  assert.ok(foreign instanceof VirtError);
  assert.ok(!(new Error('x') instanceof VirtError));
});

// The attribute readers every conf parser shares (virXMLProp*) and the strtol-family number
// parsing under them (virStrToLong_*): the network parsers call them with a plain reader, the
// domain parser through ParseContext; both must give libvirt's errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorDomain, ErrorNumber } from '../../src/errors/index.js';
import { ParseContext } from '../../src/conf/domain/parseContext.js';
import { parseXml } from '../../src/conf/xml/xmlTree.js';
import {
  plainReader,
  propEnum,
  propInt,
  propUInt,
  propULongLong,
  propUuid,
  propYesNo,
  strToInt,
  strToLongLong,
  strToUInt,
  strToUIntP,
  strToULongLong,
  strToULongLongP,
} from '../../src/conf/xmlProps.js';

test('strtol semantics: whitespace, sign, base 0 prefixes, wrap-around of the unsigned forms', () => {
  assert.equal(strToUInt(' 42'), 42);
  assert.equal(strToUInt('42 '), undefined);
  assert.equal(strToUInt('0x1f', 0), 31);
  assert.equal(strToUInt('017', 0), 15);
  assert.equal(strToUInt('017'), 17);
  assert.equal(strToUInt('-1'), 0xffffffff);
  assert.equal(strToUIntP('-1'), undefined);
  assert.equal(strToUInt('4294967296'), undefined);
  assert.equal(strToInt('-2147483648'), -2147483648);
  assert.equal(strToInt('2147483648'), undefined);
  assert.equal(strToLongLong('-9223372036854775808'), -(1n << 63n));
  assert.equal(strToLongLong('9223372036854775808'), undefined);
  assert.equal(strToULongLong('-1'), (1n << 64n) - 1n);
  assert.equal(strToULongLongP('18446744073709551615'), (1n << 64n) - 1n);
  assert.equal(strToULongLongP('18446744073709551616'), undefined);
  assert.equal(strToUInt(''), undefined);
  assert.equal(strToUInt('0x'), undefined);
});

const el = parseXml("<tag n='-3' z='00' e='maybe' u='C7A5FDBD-EDAF-9455-926A-D65C16DB1809' bad='xyz' big='18446744073709551615'/>");

function xmlErr(message: string, attribute: string, value: string | undefined) {
  return { code: ErrorNumber.XML_ERROR, domain: ErrorDomain.XML, message: `XML error: ${message}`, fault: { element: 'tag', attribute, value } };
}

test('virXMLProp* readers: values, and libvirt\'s errors naming the element, attribute and value', () => {
  for (const r of [plainReader, new ParseContext({ validate: true })]) {
    assert.equal(propInt(r, el, 'n'), -3);
    assert.throws(() => propInt(r, el, 'n', { nonnegative: true }), xmlErr("Invalid value for attribute 'n' in element 'tag': '-3'. Expected non-negative value", 'n', '-3'));
    assert.throws(() => propUInt(r, el, 'n'), xmlErr("Invalid value for attribute 'n' in element 'tag': '-3'. Expected non-negative integer value", 'n', '-3'));
    assert.throws(() => propUInt(r, el, 'z', { nonzero: true }), xmlErr("Invalid value for attribute 'z' in element 'tag': Zero is not permitted", 'z', '00'));
    assert.equal(propULongLong(r, el, 'big'), (1n << 64n) - 1n);
    assert.equal(propUInt(r, el, 'absent'), undefined);
    assert.throws(() => propUInt(r, el, 'absent', { required: true }), {
      message: "XML error: Missing required attribute 'absent' in element 'tag'",
      fault: { element: 'tag', attribute: 'absent' },
    });
    assert.throws(() => propYesNo(r, el, 'e'), xmlErr("Invalid value for attribute 'e' in element 'tag': 'maybe'.", 'e', 'maybe'));
    assert.equal(propEnum(r, el, 'e', ['perhaps', 'maybe']), 'maybe');
    assert.equal(propUuid(r, el, 'u'), 'c7a5fdbd-edaf-9455-926a-d65c16db1809');
    assert.throws(() => propUuid(r, el, 'bad'), xmlErr("Invalid value for attribute 'bad' in element 'tag': 'xyz'. Expected UUID", 'bad', 'xyz'));
  }
});

test('ParseContext reads through the same readers and records what it read', () => {
  const ctx = new ParseContext({ validate: true });
  assert.equal(ctx.intProp(el, 'n'), -3);
  assert.throws(() => ctx.uintProp(el, 'z', 10, { nonzero: true }), { message: "XML error: Invalid value for attribute 'z' in element 'tag': Zero is not permitted" });
  assert.equal(ctx.ullProp(el, 'big'), (1n << 64n) - 1n);
  assert.equal(ctx.enumProp(el, 'e', ['maybe']), 'maybe');
  assert.equal(ctx.requiredAttr(el, 'u'), 'C7A5FDBD-EDAF-9455-926A-D65C16DB1809');
  // 'bad' was never read: validation names it.
  assert.throws(() => ctx.checkUnknown(el), { code: ErrorNumber.XML_INVALID_SCHEMA, message: /\nInvalid attribute bad for element tag\n$/ });
  ctx.attr(el, 'bad');
  ctx.checkUnknown(el);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorDomain, ErrorNumber, VirtError } from '../../src/errors/index.js';
import { formatConnectURI, isRemoteURI, parseConnectURI, uriParam } from '../../src/drivers/connectUri.js';

const cases: [string, Partial<ReturnType<typeof parseConnectURI>>][] = [
  ['qemu:///system', { driver: 'qemu', transport: null, host: null, port: null, path: '/system', params: [] }],
  ['qemu:///session', { driver: 'qemu', path: '/session' }],
  ['qemu:///embed?root=/var/tmp/x', { driver: 'qemu', path: '/embed', params: [['root', '/var/tmp/x']] }],
  ['test:///default', { driver: 'test', path: '/default', host: null }],
  ['test:///abs/dir/node.xml', { driver: 'test', path: '/abs/dir/node.xml' }],
  ['qemu+unix:///system?socket=/run/x/libvirt-sock', { transport: 'unix', path: '/system', params: [['socket', '/run/x/libvirt-sock']] }],
  ['qemu+tcp://example.org:16509/system', { transport: 'tcp', host: 'example.org', port: 16509, path: '/system' }],
  ['qemu+tls://host/system', { transport: 'tls', host: 'host', port: null }],
  ['qemu+ssh://alice@host/system', { transport: 'ssh', user: 'alice', host: 'host', path: '/system' }],
  ['qemu+tcp://[::1]:16509/session', { host: '::1', port: 16509, path: '/session' }],
  ['remote://h/', { driver: 'remote', host: 'h', path: '/' }],
];

for (const [uri, want] of cases) {
  test(`parse ${uri}`, () => {
    const u = parseConnectURI(uri);
    for (const [k, v] of Object.entries(want)) assert.deepEqual((u as unknown as Record<string, unknown>)[k], v, k);
    assert.equal(formatConnectURI(u), uri);
  });
}

test('remote URIs are told from local ones', () => {
  assert.equal(isRemoteURI(parseConnectURI('qemu:///system')), false);
  assert.equal(isRemoteURI(parseConnectURI('test:///default')), false);
  assert.equal(isRemoteURI(parseConnectURI('qemu+unix:///system')), true);
  assert.equal(isRemoteURI(parseConnectURI('qemu://host/system')), true);
});

test('later query parameters win; escapes decode', () => {
  const u = parseConnectURI('qemu+unix:///system?socket=/a&socket=/b%20c&no_verify=1');
  assert.equal(uriParam(u, 'socket'), '/b c');
  assert.equal(uriParam(u, 'no_verify'), '1');
  assert.equal(uriParam(u, 'missing'), undefined);
});

test('malformed URIs are INVALID_ARG in the URI domain', () => {
  for (const bad of ['', 'qemu', 'qemu:/system', 'qemu+tcp://h:99999/system', 'qemu+tcp://[::1/system']) {
    assert.throws(
      () => parseConnectURI(bad),
      (e: unknown) => e instanceof VirtError && e.code === ErrorNumber.INVALID_ARG && e.domain === ErrorDomain.URI,
      bad,
    );
  }
});

test('format then parse is the identity (property)', () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
  const text = fc.string({ minLength: 0, maxLength: 12 });
  fc.assert(
    fc.property(
      word,
      fc.option(fc.constantFrom('unix', 'tcp', 'tls', 'ssh')),
      fc.option(word),
      fc.option(fc.oneof(word, fc.constant('::1'))),
      fc.option(fc.integer({ min: 1, max: 65535 })),
      fc.array(word, { maxLength: 3 }),
      fc.array(fc.tuple(word, text), { maxLength: 3 }),
      (driver, transport, user, host, port, segs, params) => {
        const u = {
          driver,
          transport,
          user: host === null ? null : user,
          host,
          port: host === null ? null : port,
          path: segs.length ? `/${segs.join('/')}` : '',
          params,
        };
        assert.deepEqual(parseConnectURI(formatConnectURI(u)), u);
      },
    ),
  );
});

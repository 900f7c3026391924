// The generated remote program table and the event message mapping, checked against the
// protocol's facts (spec §3.4, §7) and against the libvirt library installed here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { DomainEvent, TypedParam } from '../../src/drivers/driver.js';
import { ErrorDomain, ErrorNumber, VirtError } from '../../src/errors/index.js';
import * as x from '../../src/rpc/xdr.js';
import { typedParamFromWire, typedParamToWire } from '../../src/remote/convert.js';
import {
  domainEventFromMessage,
  domainEventToLegacyMessage,
  domainEventToMessage,
  domainEventWire,
  messageCodec,
  networkEventFromMessage,
  networkEventToMessage,
} from '../../src/remote/events.js';
import * as P from '../../src/remote/protocol.js';
import { connectOpenName, defaultUnixSocket, remoteTarget } from '../../src/remote/remoteTarget.js';
import { parseConnectURI } from '../../src/drivers/connectUri.js';

test('443 procedures numbered 1-443 without gaps; 51 are event messages', () => {
  assert.equal(P.procedures.length, 444);
  for (let i = 1; i <= 443; i++) assert.equal(P.procedures[i]?.proc, i);
  assert.equal(P.procedures.filter((p) => p?.message).length, 51);
  assert.equal(P.Procedure.DOMAIN_FD_ASSOCIATE, 443);
  assert.equal(P.REMOTE_PROGRAM, 0x20008086);
});

test('the procedures of spec §3.5 and §7 have their numbers and names', () => {
  const want: [number, string][] = [
    [1, 'CONNECT_OPEN'], [2, 'CONNECT_CLOSE'], [3, 'CONNECT_GET_TYPE'], [4, 'CONNECT_GET_VERSION'], [5, 'CONNECT_GET_MAX_VCPUS'],
    [6, 'NODE_GET_INFO'], [7, 'CONNECT_GET_CAPABILITIES'], [9, 'DOMAIN_CREATE'], [10, 'DOMAIN_CREATE_XML'], [11, 'DOMAIN_DEFINE_XML'],
    [12, 'DOMAIN_DESTROY'], [14, 'DOMAIN_GET_XML_DESC'], [15, 'DOMAIN_GET_AUTOSTART'], [16, 'DOMAIN_GET_INFO'], [17, 'DOMAIN_GET_MAX_MEMORY'],
    [19, 'DOMAIN_GET_OS_TYPE'], [21, 'CONNECT_LIST_DEFINED_DOMAINS'], [22, 'DOMAIN_LOOKUP_BY_ID'], [23, 'DOMAIN_LOOKUP_BY_NAME'],
    [24, 'DOMAIN_LOOKUP_BY_UUID'], [25, 'CONNECT_NUM_OF_DEFINED_DOMAINS'], [27, 'DOMAIN_REBOOT'], [28, 'DOMAIN_RESUME'], [29, 'DOMAIN_SET_AUTOSTART'],
    [33, 'DOMAIN_SHUTDOWN'], [34, 'DOMAIN_SUSPEND'], [35, 'DOMAIN_UNDEFINE'], [37, 'CONNECT_LIST_DOMAINS'], [39, 'NETWORK_CREATE'],
    [40, 'NETWORK_CREATE_XML'], [41, 'NETWORK_DEFINE_XML'], [42, 'NETWORK_DESTROY'], [43, 'NETWORK_GET_XML_DESC'], [44, 'NETWORK_GET_AUTOSTART'],
    [45, 'NETWORK_GET_BRIDGE_NAME'], [46, 'NETWORK_LOOKUP_BY_NAME'], [47, 'NETWORK_LOOKUP_BY_UUID'], [48, 'NETWORK_SET_AUTOSTART'],
    [49, 'NETWORK_UNDEFINE'], [51, 'CONNECT_NUM_OF_DOMAINS'], [59, 'CONNECT_GET_HOSTNAME'], [60, 'CONNECT_SUPPORTS_FEATURE'], [66, 'AUTH_LIST'],
    [67, 'AUTH_SASL_INIT'], [68, 'AUTH_SASL_START'], [69, 'AUTH_SASL_STEP'], [70, 'AUTH_POLKIT'], [105, 'CONNECT_DOMAIN_EVENT_REGISTER'],
    [106, 'CONNECT_DOMAIN_EVENT_DEREGISTER'], [107, 'DOMAIN_EVENT_LIFECYCLE'], [110, 'CONNECT_GET_URI'], [121, 'DOMAIN_GET_SECURITY_LABEL'],
    [122, 'NODE_GET_SECURITY_MODEL'], [149, 'CONNECT_IS_SECURE'], [150, 'DOMAIN_IS_ACTIVE'], [151, 'DOMAIN_IS_PERSISTENT'], [152, 'NETWORK_IS_ACTIVE'],
    [153, 'NETWORK_IS_PERSISTENT'], [157, 'CONNECT_GET_LIB_VERSION'], [160, 'DOMAIN_ATTACH_DEVICE_FLAGS'], [161, 'DOMAIN_DETACH_DEVICE_FLAGS'],
    [167, 'CONNECT_DOMAIN_EVENT_REGISTER_ANY'], [168, 'CONNECT_DOMAIN_EVENT_DEREGISTER_ANY'], [174, 'DOMAIN_UPDATE_DEVICE_FLAGS'],
    [183, 'DOMAIN_HAS_MANAGED_SAVE_IMAGE'], [187, 'DOMAIN_SNAPSHOT_NUM'], [196, 'DOMAIN_CREATE_WITH_FLAGS'], [200, 'DOMAIN_GET_VCPUS_FLAGS'],
    [201, 'DOMAIN_OPEN_CONSOLE'], [202, 'DOMAIN_IS_UPDATED'], [212, 'DOMAIN_GET_STATE'], [231, 'DOMAIN_UNDEFINE_FLAGS'], [234, 'DOMAIN_DESTROY_FLAGS'],
    [245, 'DOMAIN_RESET'], [258, 'DOMAIN_SHUTDOWN_FLAGS'], [273, 'CONNECT_LIST_ALL_DOMAINS'], [283, 'CONNECT_LIST_ALL_NETWORKS'],
    [313, 'CONNECT_NETWORK_EVENT_REGISTER_ANY'], [314, 'CONNECT_NETWORK_EVENT_DEREGISTER_ANY'], [315, 'NETWORK_EVENT_LIFECYCLE'],
    [316, 'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY'], [317, 'CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY'], [318, 'DOMAIN_EVENT_CALLBACK_LIFECYCLE'],
    [341, 'NETWORK_GET_DHCP_LEASES'], [342, 'CONNECT_GET_DOMAIN_CAPABILITIES'], [344, 'CONNECT_GET_ALL_DOMAIN_STATS'], [350, 'DOMAIN_DEFINE_XML_FLAGS'],
    [353, 'DOMAIN_INTERFACE_ADDRESSES'], [360, 'CONNECT_REGISTER_CLOSE_CALLBACK'], [361, 'CONNECT_UNREGISTER_CLOSE_CALLBACK'], [426, 'DOMAIN_GET_MESSAGES'],
  ];
  for (const [n, name] of want) assert.equal(P.procedures[n]?.name, name, String(n));
  assert.equal(P.procedures[201]!.stream, 'read');
  assert.equal(P.procedures[208]!.stream, 'write');
});

test('layouts of spec §3.5/§7 (field order and sizes)', () => {
  assert.equal(x.encode(P.NodeGetInfoRet, { model: Buffer.from('x86_64'), memory: 1n, cpus: 2, mhz: 3, nodes: 1, sockets: 1, cores: 2, threads: 1 }).length, 32 * 4 + 8 + 6 * 4);
  assert.equal(x.encode(P.DomainGetStateRet, { state: 1, reason: 1 }).toString('hex'), '0000000100000001');
  assert.equal(x.encode(P.ConnectListAllDomainsArgs, { need_results: 1, flags: 3 }).toString('hex'), '0000000100000003');
  assert.equal(x.encode(P.ConnectGetVersionRet, { hv_ver: 7002022n }).toString('hex'), '00000000006ad7a6');
  assert.equal(
    x.encode(P.ConnectGetDomainCapabilitiesArgs, { emulatorbin: null, arch: 'x86_64', machine: null, virttype: 'kvm', flags: 0 }).toString('hex'),
    '00000000' + '00000001' + '00000006' + Buffer.from('x86_64').toString('hex') + '0000' + '00000000' + '00000001' + '00000003' + '6b766d00' + '00000000',
  );
});

test('read-only refusals and API names follow libvirt\'s public API', () => {
  const ro = (n: number) => P.procedures[n]!.readonlyDenied;
  for (const n of [9, 10, 11, 12, 27, 28, 29, 33, 34, 35, 39, 40, 41, 42, 48, 49, 160, 161, 174, 196, 201, 231, 234, 245, 258, 350]) assert.equal(ro(n), true, P.procedures[n]!.name);
  for (const n of [1, 3, 4, 6, 7, 14, 16, 23, 24, 43, 60, 122, 121, 150, 212, 273, 283, 313, 316, 360, 426]) assert.equal(ro(n), false, P.procedures[n]!.name);
  assert.equal(P.procedures[12]!.api, 'virDomainDestroy');
  assert.equal(P.procedures[14]!.api, 'virDomainGetXMLDesc');
  assert.equal(P.procedures[316]!.api, 'virConnectDomainEventRegisterAny');
  assert.equal(P.procedures[41]!.apiDomain, 19); // libvirt-network.c reports in NETWORK
  assert.equal(P.procedures[12]!.apiDomain, 20);
});

const libvirtSo = '/usr/lib/x86_64-linux-gnu/libvirt.so.0';
test('every API name in the table is a function libvirt exports', { skip: existsSync(libvirtSo) ? false : 'needs libvirt.so.0' }, () => {
  const exported = new Set(
    execFileSync('nm', ['-D', '--defined-only', libvirtSo])
      .toString()
      .split('\n')
      .map((l) => l.split(' ').at(-1)!.replace(/@.*$/, '')),
  );
  const names = P.procedures.filter((p) => p?.api).map((p) => p!.api!);
  assert.ok(names.length > 350);
  assert.deepEqual(names.filter((n) => !exported.has(n)), []);
});

const dom = { name: 'vm1', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', id: 3 };
const samples: DomainEvent[] = [
  { eventId: 0, dom, event: 5, detail: 1 },
  { eventId: 1, dom },
  { eventId: 2, dom, offset: -3600n },
  { eventId: 3, dom, action: 2 },
  { eventId: 4, dom, srcPath: '/d.img', devAlias: 'virtio-disk0', action: 1 },
  {
    eventId: 5,
    dom,
    phase: 0,
    local: { family: 0, node: '127.0.0.1', service: '5900' },
    remote: { family: 0, node: '127.0.0.1', service: '41234' },
    authScheme: 'none',
    subject: [{ type: 'x509dname', name: 'CN=x' }],
  },
  { eventId: 6, dom, srcPath: '/d.img', devAlias: 'virtio-disk0', action: 1, reason: 'enospc' },
  { eventId: 7, dom },
  { eventId: 8, dom, path: '/d.img', type: 1, status: 0 },
  { eventId: 9, dom, oldSrcPath: null, newSrcPath: '/cd.iso', devAlias: 'ide0-1-0', reason: 0 },
  { eventId: 10, dom, devAlias: 'ide0-1-0', reason: 1 },
  { eventId: 11, dom, reason: 0 },
  { eventId: 12, dom, reason: 0 },
  { eventId: 13, dom, actual: 1048576n },
  { eventId: 14, dom, reason: 0 },
  { eventId: 15, dom, devAlias: 'net0' },
  { eventId: 16, dom, dst: 'vda', type: 2, status: 0 },
  { eventId: 17, dom, params: [{ field: 'cputune.vcpu_quota', type: 3, value: -1n }, { field: 'x', type: 7, value: 's' }] },
  { eventId: 18, dom, state: 1, reason: 2 },
  { eventId: 19, dom, devAlias: 'net1' },
  { eventId: 20, dom, iteration: 4 },
  { eventId: 21, dom, params: [{ field: 'time_elapsed', type: 4, value: 1234n }, { field: 'ok', type: 6, value: true }] },
  { eventId: 22, dom, devAlias: 'hostdev0' },
  { eventId: 23, dom, type: 2, nsuri: 'http://example.org/' },
  { eventId: 24, dom, dev: 'vda', path: '/d.img', threshold: 100n, excess: 5n },
  { eventId: 25, dom, recipient: 0, action: 1, flags: 0 },
  { eventId: 26, dom, alias: 'dimm0', size: 524288n },
];

test('all 27 domain event ids: the callback message round-trips through its XDR struct', () => {
  assert.equal(domainEventWire.length, 27);
  assert.equal(samples.length, 27);
  for (const ev of samples) {
    const { proc, body } = domainEventToMessage(41, ev);
    assert.equal(proc, domainEventWire[ev.eventId]!.proc);
    assert.ok(P.procedures[proc]!.message, P.procedures[proc]!.name);
    const bytes = x.encode(messageCodec(proc), body);
    // callbackID comes first in every callback message.
    assert.equal(bytes.readInt32BE(0), 41, P.procedures[proc]!.name);
    const back = domainEventFromMessage(proc, x.decode(messageCodec(proc), bytes));
    assert.deepEqual(back, { callbackID: 41, ev }, P.procedures[proc]!.name);
  }
  assert.equal(domainEventWire[0]!.proc, 318);
  assert.equal(domainEventWire[16]!.proc, 339);
  assert.equal(domainEventWire[26]!.proc, 438);
  assert.equal(P.procedures[329]!.name, 'DOMAIN_EVENT_CALLBACK_PMWAKEUP');
});

test('legacy messages (105/167 registrations) carry no callbackID; ids 16+ have none', () => {
  for (const ev of samples) {
    const m = domainEventToLegacyMessage(ev);
    if (ev.eventId >= 16) {
      assert.equal(m, null);
      continue;
    }
    assert.ok(m);
    assert.equal(m.proc, domainEventWire[ev.eventId]!.legacyProc);
    const bytes = x.encode(messageCodec(m.proc), m.body);
    // The body starts with the domain's name.
    assert.equal(bytes.readUInt32BE(0), 3);
    const back = domainEventFromMessage(m.proc, x.decode(messageCodec(m.proc), bytes));
    assert.deepEqual(back, { callbackID: null, ev });
  }
  // The lifecycle legacy message is {dom, event, detail}.
  const m = domainEventToLegacyMessage(samples[0]!)!;
  assert.equal(m.proc, 107);
  assert.equal(x.encode(messageCodec(107), m.body).toString('hex'), '00000003' + '766d3100' + '6695eb01f6a4830479aa97f2502e193f' + '00000003' + '00000005' + '00000001');
});

test('network lifecycle message 315', () => {
  const net = { name: 'default', uuid: 'dd8fe884-6c02-601e-7551-cca97df1c5df' };
  const body = networkEventToMessage(9, { eventId: 0, net, event: 2, detail: 0 });
  const bytes = x.encode(messageCodec(315), body);
  assert.equal(bytes.length, 4 + 4 + 8 + 16 + 4 + 4);
  assert.deepEqual(networkEventFromMessage(x.decode(P.NetworkEventLifecycleMsg, bytes)), { callbackID: 9, ev: { eventId: 0, net, event: 2, detail: 0 } });
});

test('remote URIs: socket choice and the CONNECT_OPEN name (spec §5.1)', () => {
  const name = (u: string) => connectOpenName(parseConnectURI(u));
  assert.equal(name('qemu+unix:///system?socket=/run/x/sock'), 'qemu:///system');
  assert.equal(name('test+unix:///default?socket=/s&mode=legacy'), 'test:///default');
  assert.equal(name('qemu+tcp://127.0.0.1:16519/session'), 'qemu:///session');
  assert.equal(name('qemu+ssh://alice@host/system?keyfile=/k&no_verify=1&foo=bar'), 'qemu:///system?foo=bar');
  assert.equal(name('remote://host/'), '');
  assert.equal(name('qemu+tls://host/system?name=qemu:///embed%3Froot%3D/x'), 'qemu:///embed?root=/x');
  assert.equal(name('test+unix:///abs/dir/node.xml?socket=/s'), 'test:///abs/dir/node.xml');

  let t = remoteTarget('qemu+unix:///system?socket=/run/x/sock');
  assert.deepEqual([t.transport, t.socketPath], ['unix', '/run/x/sock']);
  t = remoteTarget('qemu+tcp://example.org/system');
  assert.deepEqual([t.transport, t.host, t.port], ['tcp', 'example.org', 16509]);
  t = remoteTarget('qemu://example.org/system');
  assert.deepEqual([t.transport, t.port], ['tls', 16514]);
  t = remoteTarget('qemu+ssh://alice@example.org:2222/system');
  assert.deepEqual([t.transport, t.user, t.port, t.socketPath], ['ssh', 'alice', 2222, null]);
  assert.equal(defaultUnixSocket('qemu', false, false, 'legacy'), '/var/run/libvirt/libvirt-sock');
  assert.equal(defaultUnixSocket('qemu', false, true, 'legacy'), '/var/run/libvirt/libvirt-sock-ro');
  assert.equal(defaultUnixSocket('qemu', false, true, 'direct'), '/var/run/libvirt/virtqemud-sock-ro');
  assert.throws(() => remoteTarget('qemu+bogus:///system'), /transport in URL not recognised/);
  assert.throws(() => remoteTarget('qemu+ext:///system'), /command is required/);
  assert.throws(() => remoteTarget('qemu+unix:///system?mode=weird'), /Unknown remote mode 'weird'/);
});

test('typed parameters: each type round-trips through the wire union; an unknown type is libvirt\'s RPC error naming it', () => {
  const params: TypedParam[] = [
    { field: 'a', type: 1, value: -3 },
    { field: 'b', type: 2, value: 7 },
    { field: 'c', type: 3, value: -5n },
    { field: 'd', type: 4, value: 9n },
    { field: 'e', type: 5, value: 1.5 },
    { field: 'f', type: 6, value: true },
    { field: 'g', type: 7, value: 'x' },
  ];
  const codec = x.array(P.TypedParam);
  const back = x.decode(codec, x.encode(codec, params.map(typedParamToWire))).map(typedParamFromWire);
  assert.deepEqual(back, params);
  assert.throws(
    () => typedParamToWire({ field: 'inbound.average', type: 9, value: 1 } as never),
    (e: unknown) => {
      assert.ok(e instanceof VirtError);
      assert.equal(e.code, ErrorNumber.RPC);
      assert.equal(e.domain, ErrorDomain.NONE);
      assert.equal(e.message, 'unknown parameter type: 9');
      assert.equal(e.fault.object, 'inbound.average');
      assert.equal(e.fault.value, '9');
      return true;
    },
  );
});

// tsvirtd's configuration: libvirt's config syntax, libvirtd.conf's keys with their types and
// defaults, bad values refused naming the file and key (with libvirt's own message, checked
// against the real libvirtd 9.0 reading the same file), unknown keys warned about.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConf } from '../../src/daemon/confFile.js';
import { configChanges, defaultDaemonConfig, knownConfigKeys, parseDaemonConfig, RELOADABLE_KEYS } from '../../src/daemon/daemonConfig.js';
import { parseLogFilters, parseLogOutputs } from '../../src/daemon/logging.js';
import { ErrorDomain, ErrorNumber, VirtError } from '../../src/errors/index.js';
import { hasCommand, isRoot, testUser } from '../helpers/system.js';
import { run } from '../helpers/command.js';
import { TSVIRTD } from './tsvirtd.js';

function refused(fn: () => unknown): VirtError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VirtError, String(err));
    return err;
  }
  assert.fail('expected a VirtError');
}

describe('config file syntax (virConf)', () => {
  test('strings, numbers, lists over several lines, comments and separators', () => {
    const f = parseConf(
      [
        '# a comment',
        'a = "double"   # trailing comment',
        "b = 'single'",
        'c = """three',
        'lines"""',
        'd = 42; e = -7',
        'f = +3',
        'g = [ "x",',
        '      "y",',
        '',
        '      "z", ]',
        'h = []',
        '   i=1',
      ].join('\n'),
      'test.conf',
    );
    assert.deepEqual(
      f.entries.map((e) => [e.name, e.line]),
      [['a', 2], ['b', 3], ['c', 4], ['d', 6], ['e', 6], ['f', 7], ['g', 8], ['h', 12], ['i', 13]],
    );
    assert.deepEqual(f.get('a')!.value, { type: 'string', value: 'double' });
    assert.deepEqual(f.get('b')!.value, { type: 'string', value: 'single' });
    assert.deepEqual(f.get('c')!.value, { type: 'string', value: 'three\nlines' });
    assert.deepEqual(f.get('d')!.value, { type: 'unsigned', value: 42 });
    assert.deepEqual(f.get('e')!.value, { type: 'signed', value: -7 });
    assert.deepEqual(f.get('f')!.value, { type: 'unsigned', value: 3 });
    assert.deepEqual(f.get('g')!.value, { type: 'list', items: ['x', 'y', 'z'].map((value) => ({ type: 'string', value })) });
    assert.deepEqual(f.get('h')!.value, { type: 'list', items: [] });
  });

  test('the first of two entries with one name counts', () => {
    const f = parseConf('a = 1\na = 2\n', 'x');
    assert.deepEqual(f.get('a')!.value, { type: 'unsigned', value: 1 });
    const c = parseDaemonConfig('max_clients = 10\nmax_clients = 20\n', 'x.conf');
    assert.equal(c.config.maxClients, 10);
    assert.match(c.warnings.join('\n'), /x\.conf:2: 'max_clients' given again; the first value \(line 1\) counts/);
  });

  const syntax: [string, string][] = [
    ['a = "open\n', 'x.conf:1: unterminated string'],
    ["a = 'open\n", 'x.conf:1: unterminated string'],
    ['a = """never closed\n\n', 'x.conf:3: unterminated string'],
    ['\n\na = \n', 'x.conf:3: expecting a value'],
    ['a = yes\n', 'x.conf:1: expecting a value'],
    ['a 1\n', 'x.conf:1: expecting an assignment'],
    ['1a = 1\n', 'x.conf:1: expecting a name'],
    ['a = 1 b = 2\n', 'x.conf:1: expecting a separator'],
    ['a = [ "x" "y" ]\n', 'x.conf:1: expecting a separator in list'],
    ['a = [ "x",\n "y"\n', 'x.conf:3: list is not closed with ]'],
    ['a = -\n', 'x.conf:1: unterminated number'],
    // libvirt's lists take no comments.
    ['a = [ "x", # no\n "y" ]\n', 'x.conf:1: expecting a value'],
  ];
  for (const [text, msg] of syntax) {
    test(`syntax error: ${JSON.stringify(text)}`, () => {
      const e = refused(() => parseConf(text, 'x.conf'));
      assert.equal(e.code, ErrorNumber.CONF_SYNTAX);
      assert.equal(e.domain, ErrorDomain.CONF);
      assert.equal(e.message, `configuration file syntax error: ${msg}`);
    });
  }
});

describe("libvirtd.conf's keys", () => {
  test('defaults are libvirtd 9.0 (without polkit and SASL)', () => {
    const c = defaultDaemonConfig();
    assert.equal(c.listenTcp, false);
    assert.equal(c.listenTls, true);
    assert.equal(c.tcpPort, 16509);
    assert.equal(c.tlsPort, 16514);
    assert.equal(c.unixSockRwPerms, 0o700);
    assert.equal(c.unixSockRoPerms, 0o777);
    assert.equal(c.maxClients, 5000);
    assert.equal(c.maxClientRequests, 5);
    assert.equal(c.keepaliveInterval, 5);
    assert.equal(c.keepaliveCount, 5);
    assert.equal(c.logLevel, 3);
    assert.equal(c.authUnixRw, 'none');
  });

  test('every key libvirtd.conf.in documents is known, with its type', () => {
    const names = new Set(knownConfigKeys().map((k) => k.name));
    for (const k of [
      'listen_tls', 'listen_tcp', 'tls_port', 'tcp_port', 'listen_addr', 'unix_sock_group', 'unix_sock_ro_perms', 'unix_sock_rw_perms',
      'unix_sock_admin_perms', 'unix_sock_dir', 'auth_unix_ro', 'auth_unix_rw', 'auth_tcp', 'auth_tls', 'tcp_min_ssf', 'access_drivers',
      'key_file', 'cert_file', 'ca_file', 'crl_file', 'tls_no_sanity_certificate', 'tls_no_verify_certificate', 'tls_allowed_dn_list',
      'tls_priority', 'sasl_allowed_username_list', 'max_clients', 'max_queued_clients', 'max_anonymous_clients', 'min_workers', 'max_workers',
      'prio_workers', 'max_client_requests', 'admin_min_workers', 'admin_max_workers', 'admin_max_clients', 'admin_max_queued_clients',
      'admin_max_client_requests', 'log_level', 'log_filters', 'log_outputs', 'audit_level', 'audit_logging', 'host_uuid', 'host_uuid_source',
      'keepalive_interval', 'keepalive_count', 'keepalive_required', 'admin_keepalive_required', 'admin_keepalive_interval',
      'admin_keepalive_count', 'ovs_timeout',
    ]) {
      assert.ok(names.has(k), k);
    }
    assert.deepEqual([...RELOADABLE_KEYS].sort(), ['keepalive_count', 'keepalive_interval', 'log_filters', 'log_level', 'log_outputs', 'max_client_requests', 'max_clients']);
  });

  test('a file using every value type', () => {
    const c = parseDaemonConfig(
      [
        'listen_tcp = 1',
        'listen_tls = 0',
        'tcp_port = "16600"',
        'listen_addr = "127.0.0.1"',
        'unix_sock_dir = "/tmp/x"',
        'unix_sock_rw_perms = "0770"',
        'unix_sock_ro_perms = "0755"',
        'unix_sock_group = "libvirt"',
        'auth_unix_ro = "none"',
        'tls_allowed_dn_list = [ "C=GB,O=tsvirt,CN=*",',
        '                        "CN=other" ]',
        'max_clients = 7',
        'max_client_requests = 2',
        'keepalive_interval = -1',
        'keepalive_count = 0',
        'log_level = 1',
        'log_filters = "1:rpc 4:daemon.access"',
        'log_outputs = "2:stderr 1:file:/tmp/tsvirtd-test.log"',
      ].join('\n'),
      'all.conf',
    );
    const k = c.config;
    assert.equal(k.listenTcp, true);
    assert.equal(k.listenTls, false);
    assert.equal(k.tcpPort, 16600);
    assert.equal(k.listenAddr, '127.0.0.1');
    assert.equal(k.unixSockDir, '/tmp/x');
    assert.equal(k.unixSockRwPerms, 0o770);
    assert.equal(k.unixSockRoPerms, 0o755);
    assert.equal(k.unixSockGroup, 'libvirt');
    assert.deepEqual(k.tlsAllowedDnList, ['C=GB,O=tsvirt,CN=*', 'CN=other']);
    assert.equal(k.maxClients, 7);
    assert.equal(k.maxClientRequests, 2);
    assert.equal(k.keepaliveInterval, -1);
    assert.equal(k.keepaliveCount, 0);
    assert.equal(k.logLevel, 1);
    assert.deepEqual(k.logFilters, [
      { level: 1, match: 'rpc' },
      { level: 4, match: 'daemon.access' },
    ]);
    assert.deepEqual(k.logOutputs, [
      { level: 2, dest: 'stderr' },
      { level: 1, dest: 'file', path: '/tmp/tsvirtd-test.log' },
    ]);
    assert.deepEqual(c.warnings, []);
  });

  test('polkit on the read-write socket opens its mode, as libvirtd; an explicit mode wins', () => {
    assert.equal(parseDaemonConfig('auth_unix_rw = "polkit"\n', 'p.conf').config.unixSockRwPerms, 0o777);
    assert.equal(parseDaemonConfig('auth_unix_rw = "polkit"\nunix_sock_rw_perms = "0700"\n', 'p.conf').config.unixSockRwPerms, 0o700);
  });

  test('unknown keys and keys without effect are warned about, by line', () => {
    const c = parseDaemonConfig('lisen_tcp = 1\nmax_workers = 50\n', 'w.conf');
    assert.deepEqual(c.warnings, [
      "w.conf:1: unknown configuration key 'lisen_tcp' ignored",
      "w.conf:2: 'max_workers' has no effect: tsvirtd serves calls on one event loop",
    ]);
    assert.equal(c.config.listenTcp, false);
  });

  // What libvirt 9.0 itself answers (virConfGetValue* and libvirtd's own checks), for values
  // tsvirtd must refuse the same way; the differential test below runs the real libvirtd.
  const bad: [string, number, string][] = [
    ['listen_tcp = 2', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: value for 'listen_tcp' parameter must be 0 or 1"],
    ['listen_tcp = "yes"', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: expected a bool for 'listen_tcp' parameter"],
    ['tcp_port = 16509', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: expected a string for 'tcp_port' parameter"],
    ['max_clients = -1', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: expected an unsigned integer for 'max_clients' parameter"],
    ['max_clients = 4294967296', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: value for 'max_clients' parameter must be in range 0:4294967295"],
    ['keepalive_interval = "5"', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: expected a signed integer for 'keepalive_interval' parameter"],
    ['keepalive_interval = 3000000000', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: value for 'keepalive_interval' parameter must be in range -2147483648:2147483647"],
    ['tls_allowed_dn_list = "CN=x"', ErrorNumber.INTERNAL_ERROR, "internal error: b.conf: expected a string list for 'tls_allowed_dn_list' parameter"],
    ['tls_allowed_dn_list = [ "CN=x", 1 ]', ErrorNumber.CONF_SYNTAX, "configuration file syntax error: b.conf: expected a string list for 'tls_allowed_dn_list' parameter"],
    ['auth_unix_rw = "kerberos"', ErrorNumber.CONFIG_UNSUPPORTED, 'unsupported configuration: b.conf: auth_unix_rw: unsupported auth kerberos'],
    ['auth_tcp = "sasl"', ErrorNumber.CONFIG_UNSUPPORTED, 'unsupported configuration: b.conf: auth_tcp: unsupported auth sasl'],
    ['max_workers = 0', ErrorNumber.INTERNAL_ERROR, "internal error: 'max_workers' must be greater than 0"],
    ['tcp_min_ssf = 56', ErrorNumber.CONFIG_UNSUPPORTED, 'unsupported configuration: minimum SSF levels lower than 112 are not supported'],
  ];
  for (const [line, code, msg] of bad) {
    test(`refused: ${line}`, () => {
      const e = refused(() => parseDaemonConfig(`${line}\n`, 'b.conf'));
      assert.equal(e.domain, ErrorDomain.CONF);
      assert.equal(e.code, code);
      assert.equal(e.message, msg);
    });
  }

  // Checks libvirtd makes elsewhere (or not at all) that tsvirtd makes while reading the file,
  // always naming the key.
  const badTsvirt: [string, RegExp][] = [
    ['unix_sock_rw_perms = "0x1ff"', /b\.conf: unix_sock_rw_perms: Failed to parse mode '0x1ff'/],
    ['unix_sock_ro_perms = "999"', /b\.conf: unix_sock_ro_perms: Failed to parse mode '999'/],
    ['tcp_port = "http"', /b\.conf: tcp_port: invalid port 'http'/],
    ['tls_port = "70000"', /b\.conf: tls_port: invalid port '70000'/],
    ['log_level = 0', /b\.conf: log_level: value 0 is not a log level/],
    ['log_level = 5', /b\.conf: log_level: value 5 is not a log level/],
    ['log_filters = "9:qemu"', /b\.conf: log_filters: .*Invalid priority '9' for filter '9:qemu'/],
    ['log_filters = "qemu"', /b\.conf: log_filters: .*Malformed format for filter 'qemu'/],
    ['log_outputs = "1:file"', /b\.conf: log_outputs: .*Log output '1:file' does not meet the format requirements for destination type 'file'/],
    ['log_outputs = "1:printer"', /b\.conf: log_outputs: .*Invalid log destination 'printer' for log output '1:printer'/],
    ['max_clients = 0', /b\.conf: max_clients: must be at least 1/],
    ['access_drivers = [ "polkit" ]', /b\.conf: access_drivers: access driver 'polkit' is not available in tsvirtd/],
  ];
  for (const [line, re] of badTsvirt) {
    test(`refused, naming the key: ${line}`, () => {
      const e = refused(() => parseDaemonConfig(`${line}\n`, 'b.conf'));
      assert.equal(e.domain, ErrorDomain.CONF);
      assert.match(e.message, re);
    });
  }

  test('log filters and outputs as libvirt parses them', () => {
    assert.deepEqual(parseLogFilters(' 1:qemu  2:+rpc 4:*json* '), [
      { level: 1, match: 'qemu' },
      { level: 2, match: 'rpc' },
      { level: 4, match: '*json*' },
    ]);
    assert.deepEqual(parseLogOutputs('3:syslog:tsvirtd 4:journald'), [
      { level: 3, dest: 'syslog', ident: 'tsvirtd' },
      { level: 4, dest: 'journald' },
    ]);
    assert.throws(() => parseLogFilters('1:+'), /Invalid match string '\+'/);
    assert.throws(() => parseLogOutputs('0:stderr'), /Invalid log priority '0' for log output '0:stderr'/);
  });

  test('configChanges splits reloadable keys from those that need a restart', () => {
    const a = parseDaemonConfig('log_level = 3\nmax_clients = 10\ntcp_port = "16509"\nunix_sock_dir = "/a"\n', 'r.conf');
    const b = parseDaemonConfig('log_level = 1\nmax_clients = 10\ntcp_port = "16600"\nkeepalive_interval = 2\n', 'r.conf');
    assert.deepEqual(configChanges(a, b), { applied: ['keepalive_interval', 'log_level'], needRestart: ['tcp_port', 'unix_sock_dir'] });
  });
});

describe('bad configuration files: tsvirtd refuses them as libvirtd 9.0 does', { skip: !isRoot || !hasCommand('libvirtd') ? 'needs root and libvirtd' : false }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(`/tmp/tsvirt-daemon-conf-${process.pid}-`);
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    'listen_tcp = 2',
    'listen_tcp = "yes"',
    'max_clients = "x\n',
    'keepalive_count = -2',
    'auth_unix_rw = "kerberos"',
    'tls_allowed_dn_list = "CN=x"',
    'max_client_requests = 99999999999',
    'log_level = [ 1 ]',
    'x = 1\ny',
  ];
  for (const [i, text] of cases.entries()) {
    test(`${JSON.stringify(text)}: the same message, and the daemon does not start`, async () => {
      const file = join(dir, `c${i}.conf`);
      writeFileSync(file, `${text}\n`);
      chmodSync(file, 0o644);
      const user = testUser();
      const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run'), LANG: 'C' };
      // The real libvirtd stops at the config file; run it as the test user so nothing of the
      // system instance is touched either way.
      const lv = await run('libvirtd', ['--config', file], { env, uid: user.uid, gid: user.gid, timeout: 20000 });
      const m = /Can't load config file: (.*): [^:]+$/m.exec(lv.stderr);
      assert.ok(m, lv.stderr);
      const ts = await run(TSVIRTD, ['--config', file, '--root', join(dir, `root${i}`)], { timeout: 20000 });
      assert.equal(ts.status, 1);
      assert.equal(ts.stderr.trim(), `tsvirtd: ${m[1]}`);
    });
  }
});

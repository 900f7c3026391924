// tsvirtd --listen: TCP on loopback (auth none) and TLS with x509 server and client
// certificates made with openssl — the confirmation byte after the handshake, tls_allowed_dn_list,
// a revoked client certificate (crl_file) — with real virsh and tsvirt's client.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { hasCommand, isRoot } from '../helpers/system.js';
import { run } from '../helpers/command.js';
import { freePort } from '../helpers/sockets.js';
import { startTsvirtd, TSVIRTD, type RunningTsvirtd } from './tsvirtd.js';

const skip = !isRoot ? 'needs root' : (['virsh', 'openssl'].find((c) => !hasCommand(c)) ?? false);

/**
 * A CA (with an `openssl ca` database, for the CRL), a server certificate for localhost and
 * 127.0.0.1, and two client certificates; client2 is revoked in crl.pem.
 */
function makePki(dir: string): void {
  const sh = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'db/index.txt'), '');
  writeFileSync(join(dir, 'db/crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[req]', 'distinguished_name=dn', 'prompt=no', '[dn]', 'CN=tsvirtd test CA',
      '[ext]', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign',
      '[ca]', 'default_ca=CA_default', '[CA_default]', `database=${dir}/db/index.txt`, `crlnumber=${dir}/db/crlnumber`,
      'default_md=sha256', 'default_crl_days=2', `certificate=${dir}/cacert.pem`, `private_key=${dir}/cakey.pem`, '',
    ].join('\n'),
  );
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'cakey.pem', '-out', 'cacert.pem', '-days', '2', '-config', 'ca.cnf', '-extensions', 'ext']);
  const leaf = (name: string, subj: string, ext: string) => {
    writeFileSync(join(dir, `${name}.cnf`), `[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${ext}\n`);
    sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}key.pem`, '-out', `${name}.csr`, '-subj', subj]);
    sh(['x509', '-req', '-in', `${name}.csr`, '-CA', 'cacert.pem', '-CAkey', 'cakey.pem', '-CAcreateserial', '-out', `${name}cert.pem`, '-days', '2', '-extfile', `${name}.cnf`, '-extensions', 'ext']);
  };
  leaf('server', '/O=tsvirt/CN=localhost', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1');
  leaf('client', '/C=GB/O=tsvirt/CN=client1', 'extendedKeyUsage=clientAuth');
  leaf('client2', '/C=GB/O=tsvirt/CN=client2', 'extendedKeyUsage=clientAuth');
  leaf('client3', '/C=GB/O=other/CN=client3', 'extendedKeyUsage=clientAuth');
  sh(['ca', '-config', 'ca.cnf', '-revoke', 'client2cert.pem']);
  sh(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem']);
  // A pkipath directory per client identity, as libvirt's client wants it.
  for (const c of ['client', 'client2', 'client3']) {
    mkdirSync(join(dir, c === 'client' ? 'pki1' : c === 'client2' ? 'pki2' : 'pki3'));
    const p = join(dir, c === 'client' ? 'pki1' : c === 'client2' ? 'pki2' : 'pki3');
    writeFileSync(join(p, 'cacert.pem'), readFileSync(join(dir, 'cacert.pem')));
    writeFileSync(join(p, 'clientcert.pem'), readFileSync(join(dir, `${c}cert.pem`)));
    writeFileSync(join(p, 'clientkey.pem'), readFileSync(join(dir, `${c}key.pem`)));
  }
}

describe('tsvirtd --listen: TCP and TLS', { skip }, () => {
  let d: RunningTsvirtd;
  let pki: string;
  let tcpPort: number;
  let tlsPort: number;
  before(async () => {
    pki = mkdtempSync(`/tmp/tsvirt-daemon-pki-${process.pid}-`);
    chmodSync(pki, 0o755);
    makePki(pki);
    [tcpPort, tlsPort] = [await freePort(), await freePort()];
    d = await startTsvirtd({
      tag: 'net',
      args: ['--listen'],
      config: [
        'listen_tcp = 1',
        `tcp_port = "${tcpPort}"`,
        `tls_port = "${tlsPort}"`,
        `ca_file = "${pki}/cacert.pem"`,
        `cert_file = "${pki}/servercert.pem"`,
        `key_file = "${pki}/serverkey.pem"`,
        `crl_file = "${pki}/crl.pem"`,
        'tls_allowed_dn_list = [ "C=GB,O=tsvirt,CN=*" ]',
        'log_level = 2',
        '',
      ].join('\n'),
    });
  });
  after(async () => {
    await d?.stop();
    rmSync(pki, { recursive: true, force: true });
  });

  test('TCP listens on loopback only (auth none) and serves virsh and tsvirt\'s client', async () => {
    assert.match(d.log(), new RegExp(`tcp 127\\.0\\.0\\.1:${tcpPort}`));
    const r = await run('virsh', ['-c', `test+tcp://127.0.0.1:${tcpPort}/default`, 'dominfo', 'test']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Name:\s+test\n/);
    const c = await RemoteDriver.open(`test+tcp://127.0.0.1:${tcpPort}/default`);
    assert.equal(await c.getType(), 'TEST');
    assert.equal(await c.isSecure(), false);
    await c.close();
    assert.match(d.log(), /client \d+ connected: tcp 127\.0\.0\.1:\d+/);
  });

  test('TLS: an allowed client certificate gets in (virsh waits for the confirmation byte)', async () => {
    const r = await run('virsh', ['-c', `test+tls://localhost:${tlsPort}/default?pkipath=${pki}/pki1`, 'domstate', 'test']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'running');
    const c = await RemoteDriver.open(`test+tls://localhost:${tlsPort}/default?pkipath=${pki}/pki1`);
    assert.equal(await c.isEncrypted(), true);
    assert.equal((await c.domainLookupByName('test')).id, 1);
    await c.close();
    assert.match(d.log(), /client \d+ connected: tls 127\.0\.0\.1:\d+ x509 'C=GB,O=tsvirt,CN=client1'/);
  });

  test('TLS: a revoked certificate and a DN off the allowed list are refused', async () => {
    const revoked = await run('virsh', ['-c', `test+tls://localhost:${tlsPort}/default?pkipath=${pki}/pki2`, 'domstate', 'test']);
    assert.notEqual(revoked.status, 0);
    await assert.rejects(RemoteDriver.open(`test+tls://localhost:${tlsPort}/default?pkipath=${pki}/pki2`));
    const offList = await run('virsh', ['-c', `test+tls://localhost:${tlsPort}/default?pkipath=${pki}/pki3`, 'domstate', 'test']);
    assert.notEqual(offList.status, 0);
    assert.match(offList.stderr, /Unable to read TLS confirmation|server verification \(of our certificate or IP address\) failed/);
    assert.match(d.log(), /Client's Distinguished Name is not on the list of allowed clients \(tls_allowed_dn_list\): 'C=GB,O=other,CN=client3'/);
    // The daemon is still fine.
    const ok = await run('virsh', ['-c', `test+tcp://127.0.0.1:${tcpPort}/default`, 'domstate', 'test']);
    assert.equal(ok.stdout.trim(), 'running');
  });

  test('TLS key and certificate named without a CA: refused at start naming what is missing', async () => {
    const conf = join(pki, 'half.conf');
    writeFileSync(conf, `cert_file = "${pki}/servercert.pem"\nkey_file = "${pki}/serverkey.pem"\n`);
    const r = await run(TSVIRTD, ['--listen', '--config', conf, '--root', join(pki, 'root')], { timeout: 20000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), 'tsvirtd: unsupported configuration: No CA certificate path set to match server key/cert');
  });
});

// Transports, each against the real thing: TCP and TLS (x509 certificates made with openssl, the
// confirmation byte after the handshake) between real virsh, tsvirt's server, tsvirt's client
// and a real libvirtd listener; and ssh, through a stand-in `ssh` that runs the remote command
// locally, which shows tsvirt builds the command line libvirt's client builds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VirtError } from '../../src/errors/index.js';
import { pkiFiles, sshArgs } from '../../src/rpc/transport.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { run } from '../helpers/command.js';
import { freePort } from '../helpers/sockets.js';
import { hasCommand } from '../helpers/system.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { startProxy, type Proxy } from './proxy.js';

const skip = libvirtdSkipReason() || (['virsh', 'openssl', 'nc'].find((c) => !hasCommand(c)) ?? false);

const virsh = (uri: string, args: string[]) => run('virsh', ['-c', uri, ...args], { timeout: 30000 });

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, as libvirt wants them. */
function makePki(dir: string): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(join(dir, 'ca.cnf'), '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=tsvirt test CA\n[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'cakey.pem', '-out', 'cacert.pem', '-days', '2', '-config', 'ca.cnf', '-extensions', 'ext']);
  const leaf = (name: string, subj: string, ext: string) => {
    writeFileSync(join(dir, `${name}.cnf`), `[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${ext}\n`);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}key.pem`, '-out', `${name}.csr`, '-subj', subj]);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'cacert.pem', '-CAkey', 'cakey.pem', '-CAcreateserial', '-out', `${name}cert.pem`, '-days', '2', '-extfile', `${name}.cnf`, '-extensions', 'ext']);
  };
  leaf('server', '/O=tsvirt/CN=localhost', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1');
  leaf('client', '/C=GB/O=tsvirt/CN=client1', 'extendedKeyUsage=clientAuth');
}

describe('transports against the real thing', { skip }, () => {
  let lvd: PrivateLibvirtd;
  let lvdNet: PrivateLibvirtd;
  let px: Proxy;
  let pki: string;
  let tcpPort: number;
  let tlsPort: number;
  let lvdTcpPort: number;
  let lvdTlsPort: number;

  before(async () => {
    pki = mkdtempSync(`/tmp/tsvirt-rpc-${process.pid}-pki-`);
    chmodSync(pki, 0o755);
    makePki(pki);
    for (const f of ['serverkey.pem', 'clientkey.pem']) chmodSync(join(pki, f), 0o644); // the test user's libvirtd reads them
    [lvdTcpPort, lvdTlsPort] = [await freePort(), await freePort()];
    [lvd, lvdNet] = await Promise.all([
      startLibvirtd({ tag: 'rpc' }),
      startLibvirtd({
        tag: 'rpc',
        listen: true,
        config: [
          'listen_tcp = 1',
          'listen_tls = 1',
          `tcp_port = "${lvdTcpPort}"`,
          `tls_port = "${lvdTlsPort}"`,
          'listen_addr = "127.0.0.1"',
          'auth_tcp = "none"',
          'auth_tls = "none"',
          `ca_file = "${pki}/cacert.pem"`,
          `cert_file = "${pki}/servercert.pem"`,
          `key_file = "${pki}/serverkey.pem"`,
          '',
        ].join('\n'),
      }),
    ]);
    px = await startProxy(lvd);
    tcpPort = (await px.server.listenTcp('127.0.0.1', 0)).port;
    tlsPort = (await px.server.listenTls('127.0.0.1', 0, { files: pkiFiles('server', pki), allowedDNs: ['C=GB,O=tsvirt,CN=client*'] })).port;
  });
  after(async () => {
    await px?.close();
    await Promise.all([lvd?.stop(), lvdNet?.stop()]);
    rmSync(pki, { recursive: true, force: true });
  });

  test('TCP: real virsh to tsvirt; tsvirt client to tsvirt and to libvirtd', async () => {
    const r = await virsh(`test+tcp://127.0.0.1:${tcpPort}/default`, ['dominfo', 'test']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Name:\s+test\n/);
    for (const port of [tcpPort, lvdTcpPort]) {
      const d = await RemoteDriver.open(`test+tcp://127.0.0.1:${port}/default`);
      assert.equal(await d.getType(), 'TEST');
      assert.equal(await d.isSecure(), false);
      assert.equal((await d.domainLookupByName('test')).id, 1);
      await d.close();
    }
    assert.ok(px.identities.some((i) => i.transport === 'tcp' && /^127\.0\.0\.1:\d+$/.test(i.address)));
  });

  test('TLS: real virsh to tsvirt (waits for the confirmation byte); tsvirt client to tsvirt and to libvirtd', async () => {
    const r = await virsh(`test+tls://localhost:${tlsPort}/default?pkipath=${pki}`, ['dominfo', 'test']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Name:\s+test\n/);
    assert.ok(px.identities.some((i) => i.transport === 'tls' && i.x509dname === 'C=GB,O=tsvirt,CN=client1'));
    for (const [host, port] of [
      ['localhost', tlsPort],
      ['localhost', lvdTlsPort],
      ['127.0.0.1', lvdTlsPort],
    ] as const) {
      const d = await RemoteDriver.open(`test+tls://${host}:${port}/default?pkipath=${pki}`);
      assert.equal(await d.getType(), 'TEST');
      assert.equal(await d.isSecure(), true);
      assert.equal(await d.isEncrypted(), true);
      await d.close();
    }
  });

  test('TLS: a client without a certificate is refused; so is a server the CA did not sign', async () => {
    const nocert = mkdtempSync(`/tmp/tsvirt-rpc-${process.pid}-nocert-`);
    try {
      // Only the CA: libvirt's client reads clientcert.pem/clientkey.pem and fails, so give it a
      // self-signed pair instead, which the server must refuse.
      writeFileSync(join(nocert, 'cacert.pem'), readFileSync(join(pki, 'cacert.pem')));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(nocert, 'clientkey.pem'), '-out', join(nocert, 'clientcert.pem'), '-days', '1', '-subj', '/CN=intruder'], { stdio: 'pipe' });
      await assert.rejects(RemoteDriver.open(`test+tls://localhost:${tlsPort}/default?pkipath=${nocert}`), VirtError);
      const r = await virsh(`test+tls://localhost:${tlsPort}/default?pkipath=${nocert}`, ['list']);
      assert.notEqual(r.status, 0);
      // A server whose certificate our CA did not sign is refused by the client.
      const other = mkdtempSync(`/tmp/tsvirt-rpc-${process.pid}-other-`);
      makePki(other);
      const foreign = join(nocert, 'foreign');
      execFileSync('mkdir', [foreign]);
      for (const f of ['clientcert.pem', 'clientkey.pem']) writeFileSync(join(foreign, f), readFileSync(join(pki, f)));
      writeFileSync(join(foreign, 'cacert.pem'), readFileSync(join(other, 'cacert.pem')));
      await assert.rejects(RemoteDriver.open(`test+tls://localhost:${tlsPort}/default?pkipath=${foreign}`), /TLS handshake|certificate/);
      rmSync(other, { recursive: true, force: true });
    } finally {
      rmSync(nocert, { recursive: true, force: true });
    }
  });

  test('ssh: the same ssh command line as libvirt, to tsvirt and to libvirtd', async () => {
    const dir = mkdtempSync(`/tmp/tsvirt-rpc-${process.pid}-ssh-`);
    try {
      // A stand-in ssh: records its argv, then runs the remote command here.
      const fake = join(dir, 'fakessh');
      writeFileSync(
        fake,
        `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv.$$"\nwhile [ "$1" != "--" ]; do shift; done\nshift; shift\nexec sh -c "$1"\n`,
      );
      chmodSync(fake, 0o755);
      const uriFor = (sock: string) => `test+ssh://alice@localhost:2222/default?socket=${sock}&command=${fake}&no_tty=1&keyfile=/k/id`;
      const r = await virsh(uriFor(px.socket), ['domstate', 'test']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'running');
      const argvFiles = () => execFileSync('sh', ['-c', `cat ${dir}/argv.*`]).toString();
      const virshArgv = argvFiles();
      execFileSync('sh', ['-c', `rm ${dir}/argv.*`]);
      for (const sock of [px.socket, lvd.socket]) {
        const d = await RemoteDriver.open(uriFor(sock));
        assert.equal(await d.getType(), 'TEST');
        assert.equal(await d.isEncrypted(), true);
        await d.close();
      }
      const ours = argvFiles().split('\n').filter(Boolean);
      const theirs = virshArgv.split('\n').filter(Boolean);
      // Ours (to the proxy socket) is argument for argument what virsh ran.
      assert.deepEqual(ours.slice(0, theirs.length), theirs);
      assert.deepEqual(
        theirs,
        sshArgs({ host: 'localhost', port: 2222, user: 'alice', keyfile: '/k/id', noTty: true, socketPath: px.socket, driverURI: 'test:///default' }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

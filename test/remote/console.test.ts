// Streams (DOMAIN_OPEN_CONSOLE) with a real QEMU guest under a private libvirtd: a 512-byte boot
// sector that echoes whatever arrives on its serial port. tsvirt's client opens the console
// straight to libvirtd and through tsvirt's server (client stream → server stream → upstream
// stream → libvirtd), writes, and reads the echo back.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { hasCommand, testUser } from '../helpers/system.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { startProxy, type Proxy } from './proxy.js';

const skip = libvirtdSkipReason() || (hasCommand('qemu-system-x86_64') ? false : 'needs qemu-system-x86_64');

/**
 * Real-mode code: DS=0, print a banner on COM1, then echo every byte received on COM1.
 *   xor ax,ax; mov ds,ax; cld; mov dx,0x3f8; mov si,msg
 *   print: lodsb; test al,al; jz echo; out dx,al; jmp print
 *   echo: mov dx,0x3fd; wait: in al,dx; test al,1; jz wait; mov dx,0x3f8; in al,dx; out dx,al; jmp echo
 */
function echoBootSector(): Buffer {
  const code = Buffer.from('31C08ED8FCBAF803BE227CAC84C07403EEEBF8BAFD03ECA80174FBBAF803ECEEEBF1', 'hex');
  const img = Buffer.alloc(1024 * 1024);
  code.copy(img, 0);
  Buffer.from('tsvirt-console-ok\r\n\0').copy(img, code.length);
  img[510] = 0x55;
  img[511] = 0xaa;
  return img;
}

const domainXml = (name: string, disk: string) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='KiB'>32768</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${disk}'/><target dev='hda' bus='ide'/></disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>`;

function readUntil(st: Duplex, want: string, ms = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const t = setTimeout(() => {
      st.off('data', onData);
      reject(new Error(`console: no '${want}' in ${ms} ms, got ${JSON.stringify(got)}`));
    }, ms);
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes(want)) {
        clearTimeout(t);
        st.off('data', onData);
        resolve(got);
      }
    };
    st.on('data', onData);
  });
}

describe('console streams with a real guest', { skip }, () => {
  let lvd: PrivateLibvirtd;
  let px: Proxy;
  let holder: RemoteDriver;
  const name = `rpc-console-${process.pid}`;

  before(async () => {
    lvd = await startLibvirtd({ tag: 'rpc' });
    const disk = join(lvd.dir, 'echo.img');
    writeFileSync(disk, echoBootSector());
    const u = testUser();
    chownSync(disk, u.uid, u.gid);
    chmodSync(disk, 0o644);
    px = await startProxy(lvd);
    holder = await RemoteDriver.open(lvd.uri('qemu', '/session'));
    const dom = await holder.domainDefineXML(domainXml(name, disk), 0);
    await holder.domainCreate(dom, 0);
  });
  after(async () => {
    try {
      const dom = await holder.domainLookupByName(name);
      await holder.domainDestroy(dom, 0).catch(() => {});
      await holder.domainUndefine(dom, 0);
    } finally {
      await holder?.close();
      await px?.close();
      await lvd?.stop();
    }
  });

  for (const via of ['libvirtd', 'tsvirt'] as const) {
    test(`open the console ${via === 'libvirtd' ? 'straight to libvirtd' : 'through tsvirt'}: what goes in echoes back`, async () => {
      const d = await RemoteDriver.open(via === 'libvirtd' ? lvd.uri('qemu', '/session') : px.uri('qemu', '/session'));
      try {
        const dom = await d.domainLookupByName(name);
        const st = await d.domainOpenConsole(dom, null, 0);
        const token = `ping-${via}-${process.pid}`;
        const echoed = readUntil(st, token);
        st.write(token);
        assert.match(await echoed, new RegExp(token));
        // A large write goes out in chunks and comes back whole.
        const big = 'x'.repeat(3000) + 'END';
        const back = readUntil(st, 'END');
        st.write(big);
        assert.ok((await back).includes(big));
        // Closing our end finishes the stream both ways.
        const closed = new Promise<void>((r) => st.once('close', () => r()));
        st.end();
        await closed;
        // The connection is still good after the stream.
        assert.equal((await d.domainGetState(dom, 0)).state, 1);
      } finally {
        await d.close();
      }
    });
  }

  test('a second console open without FORCE is refused while one is open; with FORCE it takes over', async () => {
    const d = await RemoteDriver.open(px.uri('qemu', '/session'));
    try {
      const dom = await d.domainLookupByName(name);
      const first = await d.domainOpenConsole(dom, null, 0);
      const firstEnded = new Promise<void>((r) => first.once('close', () => r()));
      first.on('error', () => {});
      first.resume();
      await assert.rejects(d.domainOpenConsole(dom, null, 0), /Active console session exists/);
      const second = await d.domainOpenConsole(dom, null, 1);
      await firstEnded;
      const echoed = readUntil(second, 'takeover');
      second.write('takeover');
      await echoed;
      const closed = new Promise<void>((r) => second.once('close', () => r()));
      second.end();
      await closed;
    } finally {
      await d.close();
    }
  });
});

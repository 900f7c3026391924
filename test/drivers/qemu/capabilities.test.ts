import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { type QemuCaps, QemuCapsCache, findQemuBinaries, probeQemu } from '../../../src/drivers/qemu/capabilities.js';
import { hasKvm, skipUnless, tempDir } from '../../helpers/system.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] });

describe('QEMU capabilities', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-base-caps-${process.pid}-`);
  const binary = skip ? '' : execFileSync('sh', ['-c', 'command -v qemu-system-x86_64']).toString().trim();
  let caps: QemuCaps;

  before(async () => {
    caps = await probeQemu(binary, { workDir: tmp.path });
  });
  after(() => tmp.remove());

  test('finds qemu-system-ARCH binaries on the search path, one per architecture', async () => {
    const dir = join(tmp.path, 'bin');
    execFileSync('mkdir', ['-p', dir]);
    for (const name of ['qemu-system-riscv64', 'qemu-system-x86_64-microvm', 'qemu-img', 'qemu-system-ppc64']) {
      writeFileSync(join(dir, name), '#!/bin/sh\n');
    }
    chmodSync(join(dir, 'qemu-system-riscv64'), 0o755);
    chmodSync(join(dir, 'qemu-system-x86_64-microvm'), 0o755);
    // ppc64 is not executable: left out.
    const found = await findQemuBinaries([dir, '/usr/bin']);
    const byArch = new Map(found.map((b) => [b.arch, b.path]));
    assert.equal(byArch.get('riscv64'), join(dir, 'qemu-system-riscv64'));
    assert.equal(byArch.has('ppc64'), false);
    assert.equal(byArch.has('x86_64-microvm'), false);
    assert.equal(byArch.get('x86_64'), '/usr/bin/qemu-system-x86_64');
  });

  test('version and architecture match what the binary says of itself', () => {
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(execFileSync(binary, ['--version']).toString())!;
    assert.equal(caps.version, Number(m[1]) * 1_000_000 + Number(m[2]) * 1000 + Number(m[3]));
    assert.equal(caps.versionString, `${m[1]}.${m[2]}.${m[3]}`);
    assert.equal(caps.arch, 'x86_64');
  });

  test('machines: the pc and q35 aliases, exactly one default, cpu limits', () => {
    const pc = caps.machines.find((x) => x.alias === 'pc');
    const q35 = caps.machines.find((x) => x.alias === 'q35');
    assert.ok(pc && q35);
    assert.match(pc.name, /^pc-i440fx-\d+\.\d+$/);
    assert.match(q35.name, /^pc-q35-\d+\.\d+$/);
    assert.deepEqual(
      caps.machines.filter((x) => x.isDefault).map((x) => x.name),
      [pc.name],
    );
    assert.ok(q35.maxCpus > pc.maxCpus);
    assert.ok(caps.machines.some((x) => x.name === 'none'));
  });

  test('CPU models, accelerators, KVM, commands and device types', () => {
    const qemu64 = caps.cpuModels.find((c) => c.name === 'qemu64');
    assert.ok(qemu64);
    assert.equal(qemu64.usable.tcg, true);
    assert.ok(caps.accelerators.includes('tcg'));
    assert.equal(caps.kvm.present, caps.accelerators.includes('kvm'));
    // /dev/kvm usable by us means QEMU, probing as us, had KVM enabled.
    assert.equal(caps.kvm.enabled, hasKvm());
    if (caps.kvm.enabled) {
      assert.equal(caps.cpuModels.find((c) => c.name === 'host')?.usable.kvm, true);
    }
    for (const cmd of ['qmp_capabilities', 'device_add', 'netdev_add', 'getfd', 'blockdev-add']) assert.ok(caps.commands.includes(cmd), cmd);
    for (const dev of ['virtio-net-pci', 'virtio-blk-pci', 'isa-serial', 'pvpanic']) assert.ok(caps.deviceTypes.includes(dev), dev);
    assert.ok(caps.probeMs > 0);
  });

  test('the cache: a probe is written once and read back; a changed binary is probed again', async () => {
    const dir = join(tmp.path, 'cache');
    const first = await new QemuCapsCache(dir, { workDir: tmp.path }).get(binary);
    const file = new QemuCapsCache(dir).fileFor(binary);
    const written = statSync(file).mtimeMs;
    // A fresh cache (a restarted daemon) reads the file: same probe, file untouched.
    const again = await new QemuCapsCache(dir, { workDir: tmp.path }).get(binary);
    assert.equal(again.probedAt, first.probedAt);
    assert.deepEqual(again, first);
    assert.equal(statSync(file).mtimeMs, written);
    // The binary "changed" since: the stored key no longer matches, so it is probed anew.
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { key: { mtimeMs: number } };
    stored.key.mtimeMs -= 1000;
    writeFileSync(file, JSON.stringify(stored));
    const reprobed = await new QemuCapsCache(dir, { workDir: tmp.path }).get(binary);
    assert.notEqual(reprobed.probedAt, first.probedAt);
    assert.equal(reprobed.version, first.version);
  });

  test('concurrent lookups of one binary share one probe', async () => {
    const cache = new QemuCapsCache(join(tmp.path, 'cache2'), { workDir: tmp.path });
    const [a, b] = await Promise.all([cache.get(binary), cache.get(binary)]);
    assert.equal(a, b);
  });

  test('a missing binary, and a binary that is not QEMU, are errors naming it', async () => {
    const cache = new QemuCapsCache(join(tmp.path, 'cache3'), { workDir: tmp.path });
    await assert.rejects(cache.get(join(tmp.path, 'qemu-system-none')), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.SYSTEM_ERROR);
      assert.match(err.message, /Cannot find QEMU binary .*qemu-system-none: No such file or directory/);
      return true;
    });
    const fake = join(tmp.path, 'qemu-system-fake');
    writeFileSync(fake, '#!/bin/sh\necho "fake: not an emulator" >&2\nexit 1\n', { mode: 0o755 });
    await assert.rejects(probeQemu(fake, { workDir: tmp.path, timeoutMs: 5000 }), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.INTERNAL_ERROR);
      assert.match(err.message, /process exited while connecting to monitor: fake: not an emulator/);
      return true;
    });
  });
});

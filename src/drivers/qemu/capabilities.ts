// What each installed QEMU can do, asked of QEMU itself over QMP (`-machine none`), and
// remembered on disk per binary until the binary changes (path, size, mtime) or KVM appears
// or disappears. The driver maps QemuCaps into the capabilities XML (src/conf/capabilities).
import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { ErrorDomain, ErrorNumber, VirtError, fromSystemError, virtError } from '../../errors/index.js';
import { writeFileAtomic } from '../../host/atomicFile.js';
import { QemuProcess, qemuStartError } from './qemuProcess.js';
import { QmpClient } from './qmp.js';

export interface QemuMachine {
  name: string;
  /** e.g. 'pc' for pc-i440fx-7.2, 'q35' for pc-q35-7.2. */
  alias?: string;
  isDefault: boolean;
  maxCpus: number;
  deprecated: boolean;
  hotpluggableCpus: boolean;
  defaultCpuType?: string;
  defaultRamId?: string;
}

export interface QemuCpuModel {
  name: string;
  typename?: string;
  aliasOf?: string;
  static: boolean;
  migrationSafe: boolean;
  deprecated: boolean;
  /** Whether the model runs on this host with each accelerator (no unavailable features);
   * kvm is absent when KVM could not be used while probing. */
  usable: { tcg: boolean; kvm?: boolean };
}

export interface QemuCaps {
  binary: string;
  /** major * 1,000,000 + minor * 1,000 + micro: 7002022 for 7.2.22 (what getVersion returns). */
  version: number;
  /** '7.2.22' */
  versionString: string;
  /** QEMU's package string, e.g. 'Debian 1:7.2+dfsg-7+deb12u18+b3'. */
  package: string;
  /** The target architecture (query-target): 'x86_64', 'i386', 'aarch64', … */
  arch: string;
  machines: QemuMachine[];
  cpuModels: QemuCpuModel[];
  /** query-kvm while probing: present = built with KVM, enabled = KVM usable on this host. */
  kvm: { present: boolean; enabled: boolean };
  /** Accelerators compiled in: 'tcg', 'kvm', 'xen', 'qtest', … */
  accelerators: string[];
  /** Every QMP command the binary knows. */
  commands: string[];
  /** Every device type -device accepts (non-abstract QOM types implementing 'device'). */
  deviceTypes: string[];
  /** When and how long the probe took. */
  probedAt: string;
  probeMs: number;
}

/** One QEMU emulator binary found on this host. */
export interface QemuBinary {
  /** From the name qemu-system-ARCH. */
  arch: string;
  path: string;
}

/**
 * qemu-system-ARCH binaries on PATH and in /usr/bin (first found per architecture, PATH order,
 * as a shell would pick). Names with further suffixes (qemu-system-x86_64-microvm) are other
 * builds, not emulators of another architecture, and are left out.
 */
export async function findQemuBinaries(searchPath: readonly string[] = defaultSearchPath()): Promise<QemuBinary[]> {
  const found = new Map<string, string>();
  for (const dir of searchPath) {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const m = /^qemu-system-([a-z0-9_]+)$/.exec(name);
      if (!m || found.has(m[1]!)) continue;
      const path = join(dir, name);
      try {
        await fs.access(path, constants.X_OK);
        if ((await fs.stat(path)).isFile()) found.set(m[1]!, path);
      } catch {
        // not executable: not an emulator we can use
      }
    }
  }
  // Plain code-point order: localeCompare would load ICU's collation data on every start.
  return [...found].map(([arch, path]) => ({ arch, path })).sort((a, b) => (a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
}

function defaultSearchPath(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d.startsWith('/'));
  if (!dirs.includes('/usr/bin')) dirs.push('/usr/bin');
  return dirs;
}

export interface ProbeOptions {
  /** Where the probe's QMP socket and log go (a fresh directory inside it). Default: tmpdir(). */
  workDir?: string;
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number;
}

/** Whether /dev/kvm can be opened read-write by this process. */
export async function kvmUsable(): Promise<boolean> {
  try {
    await fs.access('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the binary with `-machine none` and asks it over QMP. With KVM usable it probes twice
 * at once: under KVM (the main probe) and under TCG (which CPU models TCG can run).
 */
export async function probeQemu(binary: string, opts: ProbeOptions = {}): Promise<QemuCaps> {
  const started = performance.now();
  const withKvm = await kvmUsable();
  const [main, tcgCpus] = await Promise.all([
    probeOnce(binary, withKvm ? ['kvm', 'tcg'] : ['tcg'], opts, true),
    withKvm ? probeOnce(binary, ['tcg'], opts, false) : Promise.resolve(undefined),
  ]);
  const kvmOn = main.kvm.enabled;
  const tcgDefs = tcgCpus?.cpuDefs ?? (kvmOn ? [] : main.cpuDefs);
  const tcgUsable = new Map(tcgDefs.map((d) => [d.name, d['unavailable-features']?.length === 0]));
  const v = main.version.qemu;
  return {
    binary,
    version: v.major * 1_000_000 + v.minor * 1_000 + v.micro,
    versionString: `${v.major}.${v.minor}.${v.micro}`,
    package: main.version.package.trim(),
    arch: main.arch,
    machines: main.machines
      .map((m) => ({
        name: m.name,
        ...(m.alias ? { alias: m.alias } : {}),
        isDefault: m['is-default'] === true,
        maxCpus: m['cpu-max'],
        deprecated: m.deprecated === true,
        hotpluggableCpus: m['hotpluggable-cpus'] === true,
        ...(m['default-cpu-type'] ? { defaultCpuType: m['default-cpu-type'] } : {}),
        ...(m['default-ram-id'] ? { defaultRamId: m['default-ram-id'] } : {}),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    cpuModels: main.cpuDefs
      .map((d) => ({
        name: d.name,
        ...(d.typename ? { typename: d.typename } : {}),
        ...(d['alias-of'] ? { aliasOf: d['alias-of'] } : {}),
        static: d.static === true,
        migrationSafe: d['migration-safe'] === true,
        deprecated: d.deprecated === true,
        usable: kvmOn
          ? { tcg: tcgUsable.get(d.name) ?? false, kvm: d['unavailable-features']?.length === 0 }
          : { tcg: d['unavailable-features']?.length === 0 },
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    kvm: main.kvm,
    accelerators: main.accelerators,
    commands: main.commands,
    deviceTypes: main.deviceTypes,
    probedAt: new Date().toISOString(),
    probeMs: Math.round(performance.now() - started),
  };
}

interface RawCpuDef {
  name: string;
  typename?: string;
  'alias-of'?: string;
  'unavailable-features'?: string[];
  static?: boolean;
  'migration-safe'?: boolean;
  deprecated?: boolean;
}

interface RawMachine {
  name: string;
  alias?: string;
  'is-default'?: boolean;
  'cpu-max': number;
  deprecated?: boolean;
  'hotpluggable-cpus'?: boolean;
  'default-cpu-type'?: string;
  'default-ram-id'?: string;
}

interface RawProbe {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  arch: string;
  machines: RawMachine[];
  cpuDefs: RawCpuDef[];
  kvm: { present: boolean; enabled: boolean };
  accelerators: string[];
  commands: string[];
  deviceTypes: string[];
}

async function probeOnce(binary: string, accels: string[], opts: ProbeOptions, full: boolean): Promise<RawProbe> {
  const dir = await fs.mkdtemp(join(opts.workDir ?? tmpdir(), 'tsvirt-qemu-probe-'));
  const sock = join(dir, 'qmp.sock');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let proc: QemuProcess | undefined;
  let qmp: QmpClient | undefined;
  try {
    proc = await QemuProcess.spawn({
      binary,
      args: [
        '-S',
        '-no-user-config',
        '-nodefaults',
        '-nographic',
        '-machine',
        'none',
        ...accels.flatMap((a) => ['-accel', a]),
        '-qmp',
        `unix:${sock},server=on,wait=off`,
      ],
      logFile: join(dir, 'probe.log'),
    });
    const gone = new AbortController();
    void proc.exited.then(() => gone.abort());
    try {
      qmp = await QmpClient.connect(sock, { timeoutMs, signal: gone.signal, commandTimeoutMs: timeoutMs });
    } catch (err) {
      if (!proc.running) throw qemuStartError(basename(binary), await proc.readLog(), false);
      throw err;
    }
    const q = qmp;
    if (!full) return { cpuDefs: await q.execute<RawCpuDef[]>('query-cpu-definitions') } as RawProbe;
    const [cpuDefs, version, target, machines, kvm, accelTypes, commands, devices] = await Promise.all([
      q.execute<RawCpuDef[]>('query-cpu-definitions'),
      q.execute<RawProbe['version']>('query-version'),
      q.execute<{ arch: string }>('query-target'),
      q.execute<RawMachine[]>('query-machines'),
      q.execute<RawProbe['kvm']>('query-kvm'),
      q.execute<{ name: string }[]>('qom-list-types', { implements: 'accel', abstract: false }),
      q.execute<{ name: string }[]>('query-commands'),
      q.execute<{ name: string }[]>('qom-list-types', { implements: 'device', abstract: false }),
    ]);
    return {
      version,
      arch: target.arch,
      machines,
      cpuDefs,
      kvm,
      accelerators: accelTypes
        .map((t) => t.name.replace(/-accel$/, ''))
        .filter((n) => n !== 'accel')
        .sort(),
      commands: commands.map((c) => c.name).sort(),
      deviceTypes: devices.map((d) => d.name).sort(),
    };
  } catch (err) {
    if (err instanceof VirtError) throw err;
    throw fromSystemError(err, ErrorDomain.QEMU, `Failed to probe capabilities of ${binary}`, { value: binary });
  } finally {
    qmp?.close();
    await proc?.kill({ graceMs: 2000 }).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** What a cached probe is valid for. */
interface CacheKey {
  format: number;
  binary: string;
  size: number;
  mtimeMs: number;
  kvm: boolean;
}

interface CacheFile {
  key: CacheKey;
  caps: QemuCaps;
}

// Bump when QemuCaps changes shape: older cache files are then probed again.
const CACHE_FORMAT = 1;

/**
 * The per-binary capabilities cache: in memory, and as one JSON file per binary in cacheDir
 * (libvirt keeps the same in /var/cache/libvirt/qemu/capabilities). A binary is probed again
 * when its size or mtime changes or KVM becomes usable or unusable.
 */
export class QemuCapsCache {
  readonly cacheDir: string;
  private readonly probeOptions: ProbeOptions;
  private readonly memory = new Map<string, CacheFile>();
  private readonly inFlight = new Map<string, Promise<QemuCaps>>();

  constructor(cacheDir: string, probeOptions: ProbeOptions = {}) {
    this.cacheDir = cacheDir;
    this.probeOptions = probeOptions;
  }

  /** The capabilities of one binary: from memory, from disk, or probed now. */
  async get(binary: string): Promise<QemuCaps> {
    const running = this.inFlight.get(binary);
    if (running) return running;
    const p = this.lookup(binary).finally(() => this.inFlight.delete(binary));
    this.inFlight.set(binary, p);
    return p;
  }

  /** Capabilities of every emulator binary found on the host. */
  async getAll(searchPath?: readonly string[]): Promise<QemuCaps[]> {
    const bins = await findQemuBinaries(searchPath);
    return Promise.all(bins.map((b) => this.get(b.path)));
  }

  /** The cache file of a binary. */
  fileFor(binary: string): string {
    return join(this.cacheDir, `${createHash('sha256').update(binary).digest('hex')}.json`);
  }

  private async lookup(binary: string): Promise<QemuCaps> {
    const key = await currentKey(binary);
    const mem = this.memory.get(binary);
    if (mem && sameKey(mem.key, key)) return mem.caps;
    const file = this.fileFor(binary);
    try {
      const stored = JSON.parse(await fs.readFile(file, 'utf8')) as CacheFile;
      if (sameKey(stored.key, key)) {
        this.memory.set(binary, stored);
        return stored.caps;
      }
    } catch {
      // missing or unreadable: probe
    }
    const caps = await probeQemu(binary, this.probeOptions);
    const entry: CacheFile = { key, caps };
    this.memory.set(binary, entry);
    try {
      await fs.mkdir(this.cacheDir, { recursive: true, mode: 0o755 });
      await writeFileAtomic(file, `${JSON.stringify(entry)}\n`, 0o644);
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.QEMU, `Unable to write QEMU capabilities cache '${file}'`, { value: file });
    }
    return caps;
  }
}

async function currentKey(binary: string): Promise<CacheKey> {
  let st;
  try {
    st = await fs.stat(binary);
  } catch (err) {
    throw fromSystemError(err, ErrorDomain.QEMU, `Cannot find QEMU binary ${binary}`, { value: binary });
  }
  if (!st.isFile()) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.QEMU, `QEMU binary ${binary} is not a file`, { value: binary });
  }
  return { format: CACHE_FORMAT, binary, size: st.size, mtimeMs: st.mtimeMs, kvm: await kvmUsable() };
}

function sameKey(a: CacheKey | undefined, b: CacheKey): boolean {
  return (
    a !== undefined &&
    a.format === b.format &&
    a.binary === b.binary &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.kvm === b.kvm
  );
}

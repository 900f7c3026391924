// IP forwarding for nat and route networks. libvirt switches net.ipv4.ip_forward (and
// net.ipv6.conf.all.forwarding) on when such a network starts and never switches it off. tsvirt
// remembers whether it was tsvirt that switched it on, and which running networks need it; when
// the last of them stops, it switches forwarding off again. If forwarding was already on
// (the administrator's setting), it is left alone. The record is a file in the driver's run
// directory, so a restarted daemon keeps the bookkeeping.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../host/atomicFile.js';
import { readSysctl, writeSysctl } from '../../host/sysctl.js';

const KEYS = { ipv4: 'net/ipv4/ip_forward', ipv6: 'net/ipv6/conf/all/forwarding' } as const;
type Family = keyof typeof KEYS;

interface ForwardingRecord {
  /** families tsvirt switched on */
  switchedOn: Family[];
  /** network name → families it needs */
  users: Record<string, Family[]>;
}

export class IpForwarding {
  private record: ForwardingRecord = { switchedOn: [], users: {} };

  constructor(
    private readonly file: string,
    private readonly sysctlRoot: string,
  ) {}

  /** Reads the record; users that are not among `activeNetworks` are dropped. */
  async load(activeNetworks: Iterable<string>): Promise<void> {
    try {
      const r = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<ForwardingRecord>;
      this.record = {
        switchedOn: (r.switchedOn ?? []).filter((f): f is Family => f in KEYS),
        users: typeof r.users === 'object' && r.users ? r.users : {},
      };
    } catch {
      this.record = { switchedOn: [], users: {} };
    }
    const read = JSON.stringify(this.record);
    const active = new Set(activeNetworks);
    for (const name of Object.keys(this.record.users)) if (!active.has(name)) delete this.record.users[name];
    this.releaseUnused();
    // Every driver start loads: write (and fsync) only when something changed.
    if (JSON.stringify(this.record) !== read) await this.save();
  }

  /** Network `name` needs forwarding for these families: switch them on (synchronously). */
  async enable(name: string, ipv4: boolean, ipv6: boolean): Promise<void> {
    const fams: Family[] = [];
    if (ipv4) fams.push('ipv4');
    if (ipv6) fams.push('ipv6');
    const changed: Family[] = [];
    try {
      for (const f of fams) {
        if (readSysctl(KEYS[f], this.sysctlRoot) !== '1') {
          writeSysctl(KEYS[f], '1', this.sysctlRoot);
          changed.push(f);
        }
      }
    } catch (err) {
      for (const f of changed) writeSysctl(KEYS[f], '0', this.sysctlRoot);
      throw err;
    }
    for (const f of changed) if (!this.record.switchedOn.includes(f)) this.record.switchedOn.push(f);
    this.record.users[name] = fams;
    await this.save();
  }

  /** Network `name` no longer needs forwarding. */
  async release(name: string): Promise<void> {
    if (!(name in this.record.users)) return;
    delete this.record.users[name];
    this.releaseUnused();
    await this.save();
  }

  /** Families tsvirt switched on that no running network needs any more go off again. */
  private releaseUnused(): void {
    for (const f of [...this.record.switchedOn]) {
      if (Object.values(this.record.users).some((fams) => fams.includes(f))) continue;
      if (readSysctl(KEYS[f], this.sysctlRoot) === '1') writeSysctl(KEYS[f], '0', this.sysctlRoot);
      this.record.switchedOn = this.record.switchedOn.filter((x) => x !== f);
    }
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(this.record, null, 2)}\n`, 0o644);
  }

  /** Families tsvirt has switched on (for tests and diagnostics). */
  get switchedOn(): readonly string[] {
    return this.record.switchedOn;
  }
}

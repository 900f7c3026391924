// The sysfs tree as a host-access object: every read, link resolution and attribute write goes
// through one root directory (/sys on a host, a temporary tree in tests), with paths relative
// to it. Kernel attribute writes (driver bind/unbind, driver_override) are the only writes.
import { constants, promises as fs, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ErrorDomain, fromSystemError } from '../errors/index.js';

export class SysfsRoot {
  readonly root: string;

  constructor(root = '/sys') {
    // canonical, so paths resolved through symlinks compare with it
    try {
      this.root = realpathSync(root);
    } catch {
      this.root = resolve(root);
    }
  }

  /** Absolute path of `rel`. */
  path(rel: string): string {
    return join(this.root, rel);
  }

  /** The relative path of an absolute path inside the tree, or null when it lies outside. */
  relativeOf(abs: string): string | null {
    const rel = relative(this.root, abs);
    return rel.startsWith('..') || isAbsolute(rel) ? null : rel;
  }

  /** Contents of an attribute, or null when it does not exist or cannot be read. */
  async read(rel: string): Promise<string | null> {
    try {
      return await fs.readFile(this.path(rel), 'utf8');
    } catch {
      return null;
    }
  }

  /** The first `max` bytes of a (binary) attribute, or null. */
  async readBytes(rel: string, max: number): Promise<Buffer | null> {
    try {
      const fh = await fs.open(this.path(rel), constants.O_RDONLY);
      try {
        const buf = Buffer.alloc(max);
        const { bytesRead } = await fh.read(buf, 0, max, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch {
      return null;
    }
  }

  async exists(rel: string): Promise<boolean> {
    try {
      await fs.stat(this.path(rel));
      return true;
    } catch {
      return false;
    }
  }

  /** Entries of a directory, sorted; null when it does not exist. */
  async list(rel: string): Promise<string[] | null> {
    try {
      return (await fs.readdir(this.path(rel))).sort();
    } catch {
      return null;
    }
  }

  /** Canonical relative path of `rel` (symlinks followed), or null when it does not resolve. */
  async resolve(rel: string): Promise<string | null> {
    try {
      return this.relativeOf(await fs.realpath(this.path(rel)));
    } catch {
      return null;
    }
  }

  /** Writes a kernel attribute; a failure is a system error naming the value and the file. */
  async write(rel: string, data: string): Promise<void> {
    try {
      // O_WRONLY without O_CREAT: sysfs attributes exist or the write is wrong (and many are
      // write-only, so no O_RDWR).
      const fh = await fs.open(this.path(rel), constants.O_WRONLY | constants.O_TRUNC);
      try {
        await fh.write(data);
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.NONE, `Failed to write '${data.trim()}' to '${this.path(rel)}'`, { object: rel });
    }
  }
}

// The daemon's pid file, held locked for the daemon's life: a second tsvirtd on the same pid file
// cannot take the lock and refuses to start (libvirtd's virPidFileAcquirePath, with flock where
// libvirt uses fcntl). The kernel drops the lock when the holder dies, so a file left by a
// crashed daemon never blocks the next one. Released by unlinking, then closing.
import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorDomain, fromSystemError, systemError } from '../errors/index.js';
import { LOCK_EX, LOCK_NB, flock } from '../host/syscalls.js';

export class PidFile {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Creates (or takes over) the pid file and writes `pid`; throws if another process holds it. */
  static acquire(path: string, pid = process.pid): PidFile {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.NONE, `Cannot create directory '${dirname(path)}'`, { value: path });
    }
    for (;;) {
      let fd: number;
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
      } catch (err) {
        throw fromSystemError(err, ErrorDomain.NONE, `Failed to open pid file '${path}'`, { value: path });
      }
      const rc = flock(fd, LOCK_EX | LOCK_NB);
      if (rc !== 0) {
        closeSync(fd);
        throw systemError(ErrorDomain.NONE, rc, `Failed to acquire pid file '${path}'`, { value: path });
      }
      // The file we locked must still be the one at the path (a holder that was releasing it
      // may have unlinked it meanwhile): else take the new one.
      let same = false;
      try {
        same = statSync(path).ino === fstatSync(fd).ino;
      } catch {
        same = false;
      }
      if (!same) {
        closeSync(fd);
        continue;
      }
      try {
        ftruncateSync(fd, 0);
        writeSync(fd, String(pid));
      } catch (err) {
        closeSync(fd);
        throw fromSystemError(err, ErrorDomain.NONE, `Failed to write to pid file '${path}'`, { value: path });
      }
      return new PidFile(path, fd);
    }
  }

  /** Removes the file and drops the lock. Idempotent. */
  release(): void {
    if (this.fd === undefined) return;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
    closeSync(this.fd);
    this.fd = undefined;
  }
}

// The state-directory lock: two processes never manage the same QEMU state at once (they would
// both reattach to the same QEMUs and undo each other's host changes). An flock on
// <runDir>/qemu/driver.pid, held for as long as the driver state is open; the file holds the
// holder's pid so the loser can name it. The kernel drops the lock when the holder dies, even
// by kill -9, so a stale file never blocks anyone. (Node opens files close-on-exec, so no QEMU
// inherits the lock.)
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../../errors/index.js';
import { LOCK_EX, LOCK_NB, flock } from '../../host/syscalls.js';

const EWOULDBLOCK = 11;

export class DriverLock {
  readonly path: string;
  private fd: number | undefined;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /**
   * Takes the lock or fails at once with OPERATION_FAILED naming the process that holds it
   * ("… is in use by process 1234").
   */
  static acquire(path: string, what: string): DriverLock {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.QEMU, `Failed to open pid file '${path}'`, { value: path });
    }
    const rc = flock(fd, LOCK_EX | LOCK_NB);
    if (rc !== 0) {
      let holder = '';
      try {
        holder = readFileSync(path, 'utf8').trim();
      } catch {
        // unreadable: the message goes without the pid
      }
      closeSync(fd);
      if (rc === EWOULDBLOCK) {
        throw virtError(
          ErrorNumber.OPERATION_FAILED,
          ErrorDomain.QEMU,
          `${what} is in use by ${/^\d+$/.test(holder) ? `process ${holder}` : 'another process'} (lock '${path}')`,
          { value: path },
        );
      }
      throw virtError(ErrorNumber.SYSTEM_ERROR, ErrorDomain.QEMU, `Failed to acquire pid file '${path}'`, { value: path });
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    return new DriverLock(path, fd);
  }

  /** Releases the lock (closing the descriptor drops the flock). Idempotent. */
  release(): void {
    if (this.fd === undefined) return;
    try {
      ftruncateSync(this.fd, 0);
    } catch {
      // the lock goes with the descriptor anyway
    }
    closeSync(this.fd);
    this.fd = undefined;
  }
}

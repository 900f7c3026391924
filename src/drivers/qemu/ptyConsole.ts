// A guest console on a host pty (`-chardev pty`, libvirt's default for <serial type='pty'> and
// <console type='pty'>): QEMU holds the master side and names the slave (/dev/pts/N) in
// query-chardev; a console session opens that slave, in raw mode, as libvirt's
// virFDStreamOpenPTY does. One session at a time: a second open fails unless forced.
import { close as closeFd, constants, open as openFd } from 'node:fs';
import { promisify } from 'node:util';
import type { Duplex } from 'node:stream';
import tty from 'node:tty';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../../errors/index.js';
import { makeRawTerminal } from '../../host/syscalls.js';

/** What a console session is opened on: a pty slave or a unix socket QEMU listens on. */
export interface ConsoleEndpoint {
  readonly type: 'pty' | 'unix';
  /** /dev/pts/N, or the socket's path. */
  readonly path: string;
  readonly active: boolean;
  open(opts?: { force?: boolean }): Promise<Duplex>;
  close(): void;
}

/** The pty paths of a QEMU's chardevs from `query-chardev` ("pty:/dev/pts/3"), by chardev id. */
export function ptyPaths(chardevs: readonly { label: string; filename: string }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of chardevs) if (c.filename.startsWith('pty:')) out.set(c.label, c.filename.slice(4));
  return out;
}

const openAsync = promisify(openFd);

export class QemuPtyConsole implements ConsoleEndpoint {
  readonly type = 'pty';
  readonly path: string;
  private session: Duplex | undefined;

  constructor(path: string) {
    this.path = path;
  }

  get active(): boolean {
    return this.session !== undefined;
  }

  async open(opts: { force?: boolean } = {}): Promise<Duplex> {
    if (this.session) {
      if (!opts.force) {
        throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.QEMU, 'Active console session exists for this domain', { object: this.path });
      }
      this.session.destroy();
      this.session = undefined;
    }
    // Claimed before the open, so two opens racing cannot both win.
    const claim = { destroy: () => undefined } as unknown as Duplex;
    this.session = claim;
    let fd: number | undefined;
    let stream: tty.ReadStream;
    try {
      // Never our controlling terminal. QEMU holds the master: once it is gone, reads fail (EIO).
      fd = await openAsync(this.path, constants.O_RDWR | constants.O_NOCTTY);
      makeRawTerminal(fd, this.path);
      // tty.ReadStream is a net.Socket over libuv's TTY handle: it reads and writes, and owns fd.
      stream = new tty.ReadStream(fd);
    } catch (err) {
      if (fd !== undefined) closeFd(fd, () => undefined);
      if (this.session === claim) this.session = undefined;
      throw fromSystemError(err, ErrorDomain.QEMU, `Unable to open stream for '${this.path}'`, { value: this.path });
    }
    if (this.session !== claim) {
      // forced away while we opened
      stream.destroy();
      throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.QEMU, 'Active console session exists for this domain', { object: this.path });
    }
    this.session = stream;
    stream.on('close', () => {
      if (this.session === stream) this.session = undefined;
    });
    // The guest's QEMU going away ends the session with EIO: not the reader's concern.
    stream.on('error', () => stream.destroy());
    return stream;
  }

  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }
}


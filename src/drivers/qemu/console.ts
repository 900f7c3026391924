// A guest console (serial port or virtio console) that QEMU serves on a unix socket
// (`-chardev socket,id=ID,path=PATH,server=on,wait=off`), handed out as a Node Duplex: what
// dom.openConsole() returns and `tsvirt console` reads and writes. One session at a time, as
// libvirt: a second open fails unless forced, which ends the first.
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../../errors/index.js';
import type { ConsoleEndpoint } from './ptyConsole.js';

/**
 * The -chardev value of a console on a unix socket, for QEMU's command line. With logFile,
 * QEMU also copies everything the guest prints there (libvirt's <log file=… append=…/>), also
 * while no session is open.
 */
export function consoleChardevArg(id: string, socketPath: string, opts: { logFile?: string; logAppend?: boolean } = {}): string {
  // QEMU's option syntax doubles commas inside values.
  const q = (v: string): string => v.replace(/,/g, ',,');
  let arg = `socket,id=${q(id)},path=${q(socketPath)},server=on,wait=off`;
  if (opts.logFile) arg += `,logfile=${q(opts.logFile)}${opts.logAppend ? ',logappend=on' : ''}`;
  return arg;
}

export class QemuConsole implements ConsoleEndpoint {
  readonly type = 'unix';
  readonly socketPath: string;
  private session: net.Socket | undefined;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  get path(): string {
    return this.socketPath;
  }

  /** True while a session is open. */
  get active(): boolean {
    return this.session !== undefined;
  }

  /**
   * Opens a session: a Duplex carrying the guest's console bytes both ways. With `force`, an
   * open session is ended first (VIR_DOMAIN_CONSOLE_FORCE); without, an open session is an
   * OPERATION_FAILED error "Active console session exists for this domain".
   */
  async open(opts: { force?: boolean } = {}): Promise<Duplex> {
    if (this.session) {
      if (!opts.force) {
        throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.QEMU, 'Active console session exists for this domain', {
          object: this.socketPath,
        });
      }
      this.session.destroy();
      this.session = undefined;
    }
    // Claimed before connecting, so two opens racing cannot both win.
    const sock = net.connect(this.socketPath);
    this.session = sock;
    const forcedAway = Symbol('forced away');
    // Settled by whichever comes first; the abort then takes the other listeners off.
    const settled = new AbortController();
    try {
      await Promise.race([
        once(sock, 'connect', { signal: settled.signal }), // rejects on 'error'
        // A forced open ends this one while it connects: destroy() emits 'close' alone.
        once(sock, 'close', { signal: settled.signal }).then(() => Promise.reject(forcedAway)),
      ]).finally(() => settled.abort());
    } catch (err) {
      if (this.session === sock) this.session = undefined;
      if (err === forcedAway) {
        throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.QEMU, 'Active console session exists for this domain', {
          object: this.socketPath,
        });
      }
      throw fromSystemError(err, ErrorDomain.QEMU, `Unable to open console socket '${this.socketPath}'`, {
        value: this.socketPath,
      });
    }
    sock.on('close', () => {
      if (this.session === sock) this.session = undefined;
    });
    // A console whose QEMU went away just ends; the error itself is not the reader's concern.
    sock.on('error', () => undefined);
    return sock;
  }

  /** Ends the open session, if any (the domain is stopping). */
  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }
}

// The drivers tsvirtd serves: for each client's CONNECT_OPEN one connection of a driver in this
// process (never a loop back to a daemon), closed when the client goes; closing it leaves guests
// running. The QEMU driver's state lives for the daemon's whole life once loaded: the daemon
// holds a connection of its own, opened at start-up (after the sockets listen) when there are
// guests to reattach or to autostart, else on the first client's qemu:/// open; clients'
// connections share that state.
import { readdirSync } from 'node:fs';
import { openInProcess } from '../api/driverTable.js';
import { parseConnectURI, type ConnectURI } from '../drivers/connectUri.js';
import { qemuDirsForURI, qemuPaths } from '../drivers/qemu/qemuDirs.js';
import type { Driver } from '../drivers/driver.js';
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import type { Logger } from '../rpc/logger.js';

export interface LocalDriversOptions {
  /** The daemon's instance: 'system' (root) or 'session'. */
  mode: 'system' | 'session';
  /**
   * --root: qemu:///system's state lives in this directory (the layout of
   * qemu:///embed?root=DIR: DIR/etc, DIR/run, DIR/lib, DIR/log, DIR/cache).
   */
  root: string | null;
  log: Logger;
}

/**
 * Makes this connection answer getURI with `uri`. Drivers are per-client instances, so the
 * instance itself is given the method (a Proxy would cost every call a trap).
 */
function reportingURI(target: Driver, uri: string): Driver {
  target.getURI = async () => uri;
  return target;
}

export class LocalDrivers {
  private readonly open = new Set<Driver>();
  private holder: Driver | null = null;
  private holderOpening: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: LocalDriversOptions) {}

  /** What an empty CONNECT_OPEN name means: the QEMU driver of this daemon's instance. */
  get defaultURI(): string {
    return this.opts.mode === 'system' ? 'qemu:///system' : 'qemu:///session';
  }

  /** The URI the QEMU driver is opened with in this process for a qemu:/// URI of this daemon. */
  private qemuTarget(u: ConnectURI): { uri: ConnectURI; reported: string } {
    const reported = `qemu://${u.path}`;
    const fail = (try_: string) =>
      virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `unexpected qemu URI path '${u.path || '/'}', try qemu:///${try_}`, { value: u.path });
    if (this.opts.mode === 'system') {
      // libvirt's privileged QEMU driver also serves /session (its compatibility exception).
      if (u.path !== '/system' && u.path !== '/session') throw fail('system');
      if (this.opts.root) return { uri: { ...u, path: '/embed', params: [['root', this.opts.root]] }, reported };
      return { uri: { ...u, path: '/system', params: [] }, reported };
    }
    if (u.path !== '/session') throw fail('session');
    return { uri: { ...u, params: [] }, reported };
  }

  /** Opens a driver connection for one client's CONNECT_OPEN (name '' = the default). */
  async openForClient(name: string, opts: { readonly: boolean }): Promise<Driver> {
    if (this.closed) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'the daemon is shutting down');
    const uri = name === '' ? this.defaultURI : name;
    const u = parseConnectURI(uri);
    let driver: Driver;
    if (u.driver === 'qemu' && u.host === null && u.transport === null) {
      const t = this.qemuTarget(u);
      // The first qemu:/// client loads the driver's state for good (the daemon's own hold).
      await this.startQemu();
      // It reports the URI the client asked for (with --root the driver opened another one;
      // as root, /session is served by the system instance, as libvirt's).
      driver = reportingURI(await openInProcess(t.uri, { uri, readonly: opts.readonly }), t.reported);
    } else {
      // Remote URIs have no in-process driver: NO_CONNECT, never a loop to a daemon.
      driver = await openInProcess(u, { uri, readonly: opts.readonly });
    }
    return this.track(driver);
  }

  private track(driver: Driver): Driver {
    if (this.closed) {
      void driver.close();
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'the daemon is shutting down');
    }
    // Forgotten once closed (by its client or at shutdown). Set on the instance, as getURI.
    const close = driver.close.bind(driver);
    driver.close = async () => {
      this.open.delete(driver);
      await close();
    };
    this.open.add(driver);
    return driver;
  }

  /**
   * True when the QEMU driver has work at start-up: status files of guests that ran under an
   * earlier daemon (to reattach) or autostart links. Else loading it waits for a client.
   */
  qemuHasWork(): boolean {
    const u = parseConnectURI(this.defaultURI);
    let paths;
    try {
      paths = qemuPaths(qemuDirsForURI(this.qemuTarget(u).uri));
    } catch {
      return false;
    }
    const xmlIn = (dir: string) => {
      try {
        return readdirSync(dir).some((f) => f.endsWith('.xml'));
      } catch {
        return false;
      }
    };
    return xmlIn(paths.status) || xmlIn(paths.autostart);
  }

  /**
   * Opens the daemon's own QEMU connection: its state reattaches to the guests still running
   * and starts the autostart ones. Resolves when done; a failure is logged (clients asking for
   * qemu:/// then get the error themselves) and the daemon keeps serving the other drivers.
   */
  startQemu(): Promise<void> {
    this.holderOpening ??= (async () => {
      const u = parseConnectURI(this.defaultURI);
      try {
        const t = this.qemuTarget(u);
        const d = await openInProcess(t.uri, { uri: this.defaultURI, readonly: false });
        if (this.closed) await d.close();
        else this.holder = d;
        this.opts.log.info(`QEMU driver state ready (${this.defaultURI}${this.opts.root ? ` in ${this.opts.root}` : ''})`);
      } catch (err) {
        this.opts.log.error(`cannot open the QEMU driver (${this.defaultURI}): ${(err as Error).message}`);
        // The next qemu:/// client tries again (and gets the error itself if it persists).
        this.holderOpening = null;
      }
    })();
    return this.holderOpening;
  }

  /** Clients' connections still open. */
  get clientConnections(): number {
    return this.open.size;
  }

  /**
   * Closes every connection (clients' first, then the daemon's own). The QEMU driver's state
   * closes with the last one: monitors are closed and guests keep running.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.holderOpening;
    const all = [...this.open];
    this.open.clear();
    await Promise.all(all.map((d) => d.close().catch((err: unknown) => this.opts.log.warn(`closing a client's driver: ${(err as Error).message}`))));
    const h = this.holder;
    this.holder = null;
    if (h) await h.close().catch((err: unknown) => this.opts.log.warn(`closing the QEMU driver: ${(err as Error).message}`));
  }
}

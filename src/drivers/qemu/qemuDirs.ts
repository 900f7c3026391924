// Where a QEMU driver instance keeps its state (DESIGN.md "Directories"): one set of directories
// per connection URI. qemu:///system is root's, qemu:///session an unprivileged user's (XDG
// directories), qemu:///embed?root=DIR everything under DIR (in-process, no daemon).
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { type ConnectURI, uriParam } from '../connectUri.js';

export type QemuDriverMode = 'system' | 'session' | 'embed';

export interface QemuDirs {
  mode: QemuDriverMode;
  /** embed: the root directory given in the URI. */
  root?: string;
  /** Persistent configs: <configDir>/qemu/NAME.xml, autostart links in <configDir>/qemu/autostart. */
  configDir: string;
  /** Runtime state: status files <runDir>/qemu/NAME.xml, sockets, the driver lock. */
  runDir: string;
  /** Images, per-domain private data. */
  libDir: string;
  /** QEMU logs <logDir>/qemu/NAME.log. */
  logDir: string;
  /** The capabilities cache. */
  cacheDir: string;
}

/** The driver's own subdirectories of QemuDirs. */
export interface QemuPaths {
  /** <configDir>/qemu */
  config: string;
  /** <configDir>/qemu/autostart */
  autostart: string;
  /** <runDir>/qemu: status files and per-domain socket directories */
  status: string;
  /** <runDir>/hostdevmgr: VF state files of hostdev interfaces (spec network-devices §1.8) */
  hostdevmgr: string;
  /** <libDir>/qemu */
  lib: string;
  /** <logDir>/qemu */
  log: string;
  /** <cacheDir>/qemu/capabilities */
  capabilities: string;
}

export function qemuPaths(d: QemuDirs): QemuPaths {
  return {
    config: join(d.configDir, 'qemu'),
    autostart: join(d.configDir, 'qemu', 'autostart'),
    status: join(d.runDir, 'qemu'),
    hostdevmgr: join(d.runDir, 'hostdevmgr'),
    lib: join(d.libDir, 'qemu'),
    log: join(d.logDir, 'qemu'),
    capabilities: join(d.cacheDir, 'qemu', 'capabilities'),
  };
}

/**
 * The directories a qemu:/// URI names. Refuses what libvirt refuses: qemu:///system as
 * non-root, an embed URI without an absolute root, an unknown path.
 */
export function qemuDirsForURI(u: ConnectURI, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): QemuDirs {
  const uri = `qemu://${u.path}`;
  switch (u.path) {
    case '/system':
      if (uid !== 0) {
        // libvirt's unprivileged driver answers the same for any path but /session.
        throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `unexpected QEMU URI path '/system', try qemu:///session`, {
          value: u.path,
        });
      }
      return {
        mode: 'system',
        configDir: '/etc/tsvirt',
        runDir: '/run/tsvirt',
        libDir: '/var/lib/tsvirt',
        logDir: '/var/log/tsvirt',
        cacheDir: '/var/cache/tsvirt',
      };
    case '/session': {
      const home = env.HOME || homedir();
      const config = env.XDG_CONFIG_HOME || join(home, '.config');
      const data = env.XDG_DATA_HOME || join(home, '.local', 'share');
      const cache = env.XDG_CACHE_HOME || join(home, '.cache');
      // libvirt falls back to the cache directory when there is no XDG_RUNTIME_DIR.
      const run = env.XDG_RUNTIME_DIR || join(cache, 'tsvirt-run');
      return {
        mode: 'session',
        configDir: join(config, 'tsvirt'),
        runDir: join(run, 'tsvirt'),
        libDir: join(data, 'tsvirt'),
        logDir: join(data, 'tsvirt', 'log'),
        cacheDir: join(cache, 'tsvirt'),
      };
    }
    case '/embed': {
      const root = uriParam(u, 'root');
      if (!root) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, "Missing URI parameter 'root'", { value: uri });
      // libvirt refuses a relative root ("root path must be absolute"); tsvirt takes it from the
      // current directory, so `make demo` can run on qemu:///embed?root=./.demo.
      const r = isAbsolute(root) ? root : resolve(root);
      return {
        mode: 'embed',
        root: r,
        configDir: join(r, 'etc'),
        runDir: join(r, 'run'),
        libDir: join(r, 'lib'),
        logDir: join(r, 'log'),
        cacheDir: join(r, 'cache'),
      };
    }
    default:
      throw virtError(
        ErrorNumber.INTERNAL_ERROR,
        ErrorDomain.QEMU,
        `unexpected QEMU URI path '${u.path || '/'}', try qemu:///${uid === 0 ? 'system' : 'session'}`,
        { value: u.path },
      );
  }
}

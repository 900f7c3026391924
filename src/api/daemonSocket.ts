// Where tsvirtd listens by default (DESIGN.md "Directories"): the system daemon in /run/tsvirt,
// a user's session daemon in $XDG_RUNTIME_DIR/tsvirt. Both the client's routing (driverTable.ts)
// and the daemon itself take the paths from here, so they always agree.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The read-write socket's file name (libvirt's). */
export const RW_SOCKET_NAME = 'libvirt-sock';
/** The read-only socket's file name (system daemon only, as libvirtd). */
export const RO_SOCKET_NAME = 'libvirt-sock-ro';

/** The default unix_sock_dir: /run/tsvirt (system) or $XDG_RUNTIME_DIR/tsvirt (session). */
export function daemonSocketDir(session: boolean, env: NodeJS.ProcessEnv = process.env): string {
  if (!session) return '/run/tsvirt';
  // Without XDG_RUNTIME_DIR the QEMU driver keeps its session runtime state under the cache
  // directory; the daemon's sockets go next to it.
  const run = env.XDG_RUNTIME_DIR || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'tsvirt-run');
  return join(run, 'tsvirt');
}

/**
 * The socket a client uses for the default daemon: the system daemon's read-only socket for a
 * read-only connection, else its read-write one; a session daemon has only the read-write one.
 */
export function daemonSocketPath(opts: { session: boolean; readonly: boolean }, env: NodeJS.ProcessEnv = process.env): string {
  const name = opts.readonly && !opts.session ? RO_SOCKET_NAME : RW_SOCKET_NAME;
  return join(daemonSocketDir(opts.session, env), name);
}

/** The default daemon's socket when it exists (a daemon is, or was, running), else null. */
export function runningDaemonSocket(opts: { session: boolean; readonly: boolean }, env: NodeJS.ProcessEnv = process.env): string | null {
  const p = daemonSocketPath(opts, env);
  return existsSync(p) ? p : null;
}

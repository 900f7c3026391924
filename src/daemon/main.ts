// bin/tsvirtd: the daemon's command line (libvirtd's options), --daemon, and signals.
//
//   tsvirtd [-f|--config FILE] [-l|--listen] [-p|--pid-file FILE] [-d|--daemon] [-v|--verbose]
//           [--root DIR] [-V|--version] [-h|--help]
//
// Foreground by default, logging to stderr. --daemon starts a detached copy of itself and exits
// once that copy's sockets listen (exit status 0), or prints the copy's error and exits 1: so a
// service manager's Type=forking (docs/tsvirtd.service) knows when tsvirtd is ready.
// SIGTERM/SIGINT stop it cleanly (guests keep running); SIGHUP reloads the config file.
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tsvirtd, type TsvirtdOptions } from './daemon.js';

const READY_FD_ENV = 'TSVIRTD_READY_FD';

const USAGE = `
Usage:
  tsvirtd [options]

Options:
  -h | --help            Display program help
  -v | --verbose         Verbose messages
  -d | --daemon          Run as a daemon & write PID file
  -l | --listen          Listen for TCP/IP connections
  -f | --config <file>   Configuration file
  -V | --version         Display version information
  -p | --pid-file <file> Change name of PID file
       --root <dir>      Keep every file of this instance under <dir>
                         (<dir>/etc, run, lib, log: a private instance for tests)

tsvirtd, libvirt's remote protocol over tsvirt's drivers:

  Default paths (system instance, as root):
    Configuration file (unless overridden by -f):
      /etc/tsvirt/tsvirtd.conf
    Sockets:
      /run/tsvirt/libvirt-sock
      /run/tsvirt/libvirt-sock-ro
    PID file (unless overridden by -p):
      /run/tsvirtd.pid

  Session instance (as an ordinary user):
    $XDG_CONFIG_HOME/tsvirt/tsvirtd.conf, $XDG_RUNTIME_DIR/tsvirt/libvirt-sock,
    $XDG_RUNTIME_DIR/tsvirt/tsvirtd.pid
`;

/** tsvirt's version, from the package.json above this file (in dist/src/daemon or dist/bundle). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'tsvirt') return pkg.version;
    } catch {
      // not here: one level up
    }
  }
  return 'unknown';
}

interface Parsed {
  opts: TsvirtdOptions;
  daemon: boolean;
}

function parse(argv: string[]): Parsed | number {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        verbose: { type: 'boolean', short: 'v' },
        daemon: { type: 'boolean', short: 'd' },
        listen: { type: 'boolean', short: 'l' },
        config: { type: 'string', short: 'f' },
        version: { type: 'boolean', short: 'V' },
        'pid-file': { type: 'string', short: 'p' },
        root: { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`tsvirtd: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (v.version) {
    process.stdout.write(`tsvirtd (tsvirt) ${packageVersion()}\n`);
    return 0;
  }
  return {
    daemon: !!v.daemon,
    opts: {
      configFile: v.config ? resolve(v.config) : null,
      listen: !!v.listen,
      pidFile: v['pid-file'] !== undefined ? (v['pid-file'] === '' ? '' : resolve(v['pid-file'])) : null,
      root: v.root ? resolve(v.root) : null,
      verbose: !!v.verbose,
    },
  };
}

/**
 * --daemon: runs a detached copy of this command (without -d) and waits for it to say it is
 * listening (one line on an inherited pipe) or why it failed.
 */
async function spawnDetached(argv: string[]): Promise<number> {
  const { spawn } = await import('node:child_process');
  const args = [...process.execArgv, process.argv[1]!, ...argv.filter((a) => a !== '-d' && a !== '--daemon')];
  const child = spawn(process.execPath, args, {
    detached: true,
    cwd: '/',
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, [READY_FD_ENV]: '3' },
  });
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  return new Promise((resolveStatus) => {
    let text = '';
    let done = false;
    const finish = (status: number, msg?: string) => {
      if (done) return;
      done = true;
      if (msg) process.stderr.write(msg.endsWith('\n') ? msg : `${msg}\n`);
      child.unref();
      (pipe as unknown as { destroy(): void }).destroy();
      resolveStatus(status);
    };
    pipe.on('data', (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      const line = text.slice(0, nl);
      if (line === 'READY') finish(0);
      else finish(1, line.replace(/^ERROR /, ''));
    });
    pipe.on('error', () => {});
    child.once('exit', (code, signal) => finish(1, `tsvirtd: the daemon exited before it was ready (${signal ?? `status ${code}`})`));
    child.once('error', (err) => finish(1, `tsvirtd: cannot start the daemon: ${err.message}`));
  });
}

function tellParent(line: string): void {
  const fdText = process.env[READY_FD_ENV];
  if (!fdText) return;
  delete process.env[READY_FD_ENV];
  const fd = Number(fdText);
  try {
    writeSync(fd, `${line.replace(/\n/g, ' ')}\n`);
    closeSync(fd);
  } catch {
    // the parent is gone: nothing to tell
  }
}

/** Runs tsvirtd with these arguments until it is stopped; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const p = parse(argv);
  if (typeof p === 'number') return p;
  if (p.daemon && !process.env[READY_FD_ENV]) return spawnDetached(argv);
  const detachedChild = !!process.env[READY_FD_ENV];
  if (detachedChild) {
    // Nothing of the starting terminal stays attached.
    process.chdir('/');
    p.opts.logToFile = true;
  }
  let d: Tsvirtd;
  try {
    d = await Tsvirtd.start(p.opts);
  } catch (err) {
    const msg = `tsvirtd: ${(err as Error).message}`;
    if (detachedChild) tellParent(`ERROR ${msg}`);
    else process.stderr.write(`${msg}\n`);
    return 1;
  }
  const log = d.log.category('daemon');
  process.on('uncaughtException', (err) => log.error(`unexpected failure (the daemon keeps running): ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => log.error(`unexpected failure (the daemon keeps running): ${(err as Error)?.stack ?? err}`));
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading the configuration');
    d.reload().catch(() => {});
  });
  const stopped = new Promise<number>((res) => {
    const stop = (sig: string) => {
      log.info(`${sig}: stopping`);
      d.stop().then(
        () => res(0),
        (err: Error) => {
          log.error(`stop failed: ${err.message}`);
          res(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  if (detachedChild) tellParent('READY');
  return stopped;
}

/** bin/tsvirtd's entry point. */
export function runFromProcess(): void {
  main(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (err: Error) => {
      process.stderr.write(`tsvirtd: ${err.stack ?? err}\n`);
      process.exit(1);
    },
  );
}


#!/usr/bin/env node
// Bundles tsvirtd (dist/src/daemon/main.js and what it loads) into dist/bundle/ with esbuild:
// one minified entry plus lazily loaded chunks (the test and QEMU drivers load on first use).
// Loading a few files instead of a few hundred ESM modules is most of tsvirtd's start-up time
// (bench/rpc). bin/tsvirtd uses the bundle only while it is newer than the last tsc build.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The `netlink` package costs ~8 MiB and tens of milliseconds to load, and tsvirtd needs it only
 * once a guest's interface touches the host. Its named exports become stand-ins that load the
 * package on first use (a call, `new`, or a property read); nothing reads them while modules load.
 */
const lazyNetlink = {
  name: 'lazy-netlink',
  setup(b) {
    b.onResolve({ filter: /^netlink$/ }, (args) => (args.namespace === 'lazy-netlink' ? { path: 'netlink', external: true } : { path: 'netlink', namespace: 'lazy-netlink' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-netlink' }, () => {
      const names = Object.keys(createRequire(join(root, 'package.json'))('netlink')).filter((n) => n !== 'default' && n !== '__esModule');
      const contents = [
        "import { createRequire } from 'node:module';",
        'const require = createRequire(import.meta.url);',
        'let real;',
        "const load = () => (real ??= require('netlink'));",
        'const lazy = (name) => new Proxy(function () {}, {',
        '  get: (_t, k) => Reflect.get(load()[name], k),',
        '  has: (_t, k) => k in load()[name],',
        '  apply: (_t, self, args) => Reflect.apply(load()[name], self, args),',
        '  construct: (_t, args) => Reflect.construct(load()[name], args),',
        '  getPrototypeOf: () => Reflect.getPrototypeOf(load()[name]),',
        '});',
        ...names.map((n) => `export const ${n} = lazy(${JSON.stringify(n)});`),
      ].join('\n');
      return { contents, loader: 'js', resolveDir: root };
    });
  },
};
const outdir = join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { tsvirtd: join(root, 'dist/src/daemon/main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Native addons stay packages of their own.
  external: ['koffi'],
  plugins: [lazyNetlink],
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});

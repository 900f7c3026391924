// Enforces DESIGN.md's layer table: a module may import only the layers listed above its own.
const layers = ['errors', 'conf', 'host', 'drivers', 'rpc', 'remote', 'api', 'daemon', 'cli'];

const forbidden = layers.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `src/${layer} may import only ${layers.slice(0, i).join(', ') || 'nothing of tsvirt'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${layers.slice(i + 1).join('|')})/` },
}));

// rpc knows nothing of drivers (DESIGN.md), although drivers sits above it in the table.
forbidden.push({
  name: 'rpc-knows-no-drivers',
  comment: 'src/rpc is the wire layer: no driver imports',
  severity: 'error',
  from: { path: '^src/rpc/' },
  to: { path: '^src/drivers/' },
});

forbidden.push({
  name: 'no-circular',
  severity: 'error',
  from: {},
  to: { circular: true },
});

forbidden.push({
  name: 'src-not-from-tests',
  comment: 'library code never imports tests or benchmarks',
  severity: 'error',
  from: { path: '^src/' },
  to: { path: '^(test|bench)/' },
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

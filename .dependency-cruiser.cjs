// The layer rules of docs/ARCHITECTURE.md ("Layers"), checked by `npm run deps` (part of `npm test`).
// Type-only imports count: a layer may not even name a type of a layer above it. The layer rules
// bind the code that ships; unit tests beside it (*.test.ts) may also use test/support/ and src/sim/.
// Each rule's comment says what to do when it fails.

const TEST = '\\.test\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Modules import each other in a circle: move what both need into the lower layer (often src/core/).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'src/core/ is the pure centre: it imports nothing of ours outside src/core/. Move the code it needs into src/core/, or pass it in.',
      from: { path: '^src/core/', pathNot: TEST },
      to: { path: '^(src|test)/', pathNot: '^src/core/' },
    },
    {
      name: 'pure-layers-import-only-core',
      severity: 'error',
      comment:
        'src/manifests/, src/aws/ and src/log/ import only src/core/ (and their own folder). Put file and network work in an edge (src/disk/, src/kube/, src/cap/).',
      from: { path: '^src/(manifests|aws|log)/', pathNot: TEST },
      to: { path: '^(src|test)/', pathNot: ['^src/core/', '^src/$1/'] },
    },
    {
      name: 'edges-import-only-lower-layers',
      severity: 'error',
      comment:
        'src/cap/, src/disk/ and src/kube/ import src/core/, src/manifests/, src/aws/, src/log/ and their own folder, not each other, the engine, the commands or the CLI. ' +
        'What two edges share belongs in src/core/; what combines edges belongs in src/refresh/ or src/commands/.',
      from: { path: '^src/(cap|disk|kube)/', pathNot: TEST },
      to: { path: '^(src|test)/', pathNot: ['^src/(core|manifests|aws|log)/', '^src/$1/'] },
    },
    {
      name: 'refresh-imports-no-command',
      severity: 'error',
      comment: 'src/refresh/ (the engine and its orchestration) takes its settings as plain values: it never imports src/commands/, src/cli/ or src/sim/.',
      from: { path: '^src/refresh/', pathNot: TEST },
      to: { path: '^src/(commands|cli|sim)/' },
    },
    {
      name: 'sim-imports-no-command',
      severity: 'error',
      comment: 'src/sim/ (the CAP simulator and the throwaway PKI) is used by the commands, never the other way round.',
      from: { path: '^src/sim/', pathNot: TEST },
      to: { path: '^src/(commands|cli|refresh)/' },
    },
    {
      name: 'only-commands-use-sim',
      severity: 'error',
      comment: 'Only src/commands/ (demo) and tests use src/sim/: production code never runs the simulator.',
      from: { path: '^src/', pathNot: ['^src/(commands|sim)/', TEST] },
      to: { path: '^src/sim/' },
    },
    {
      name: 'only-cli-imports-cli',
      severity: 'error',
      comment: 'src/cli/ is the top: commands return statuses or throw, and only the CLI wires them to commander and the process.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'src-imports-no-test',
      severity: 'error',
      comment: 'Code under src/ never imports test/ (test servers and helpers stay out of the bundle); move what both need into src/.',
      from: { path: '^src/', pathNot: TEST },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

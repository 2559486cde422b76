/**
 * The dependency rule of src/ (see README "Architecture"): the pipeline flows
 * source → forecast → anomaly → decide → engine → publish/api, and no module reaches back.
 */
const domain = '^src/(forecast|anomaly|decide)/';
module.exports = {
  forbidden: [
    { name: 'core-imports-nothing', severity: 'error', from: { path: '^src/core/' }, to: { path: '^src/(?!core/)' } },
    {
      name: 'domain-imports-core-only',
      comment: 'forecast, anomaly and decide are pure: they import core and their own files only.',
      severity: 'error',
      from: { path: domain },
      to: { path: '^src/(source|engine|publish|api|config|cli)/' },
    },
    {
      name: 'domain-modules-independent',
      severity: 'error',
      from: { path: '^src/(anomaly|decide)/' },
      to: { path: '^src/forecast/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'simulate-imports-domain-only',
      comment: 'The simulator is pure: it composes core, forecast, decide and anomaly, and reaches nothing outward.',
      severity: 'error',
      from: { path: '^src/simulate/' },
      to: { path: '^src/(source|engine|publish|api|config|cli)/' },
    },
    { name: 'source-imports-core-only', severity: 'error', from: { path: '^src/source/' }, to: { path: '^src/(?!core/|source/)' } },
    {
      name: 'config-imports-types-only',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(?!core/|config/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'engine-no-outward',
      comment: 'The engine emits through ports; it never imports publish, api, config or cli.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(publish|api|cli|config)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'engine-source-types-only',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/source/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'publish-no-api-or-domain-values',
      severity: 'error',
      from: { path: '^src/publish/' },
      to: { path: '^src/(api|cli|source)/' },
    },
    {
      name: 'api-no-domain',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/(source|forecast|anomaly|decide|cli)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'actuate-imports-core-only',
      comment: 'actuate writes to the cluster: it imports core, and only types from engine and config.',
      severity: 'error',
      from: { path: '^src/actuate/' },
      to: { path: '^src/(?!core/|actuate/|engine/|config/)' },
    },
    {
      name: 'actuate-engine-config-types-only',
      severity: 'error',
      from: { path: '^src/actuate/' },
      to: { path: '^src/(engine|config)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'actuate-wired-by-app-only',
      comment: 'Only the composition root (src/app/, cli/) builds the actuator; others may use its types (status).',
      severity: 'error',
      from: { path: '^src/(core|config|source|forecast|anomaly|decide|engine|publish|api)/' },
      to: { path: '^src/actuate/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'through-index-only',
      comment: 'Other modules are imported through their index.ts, never their internals.',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/([^/]+)/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'training-imports-core-forecast',
      comment: 'training (model store, worker runner, lifecycle) imports core and forecast, and only types from source and config.',
      severity: 'error',
      from: { path: '^src/training/' },
      to: { path: '^src/(?!core/|forecast/|training/|source/|config/)' },
    },
    {
      name: 'training-source-config-types-only',
      severity: 'error',
      from: { path: '^src/training/' },
      to: { path: '^src/(source|config)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'tfjs-only-in-lstm',
      severity: 'error',
      from: { pathNot: '^src/forecast/lstm/' },
      to: { path: '@tensorflow' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

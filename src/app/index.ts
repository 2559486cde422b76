// Module app: the composition root. Builds every part from the configuration, wires them and owns
// their lifetime (service.ts), adapts training onto the engine's ports (learned-models.ts,
// training-events.ts) and builds the configured source (source-factory.ts).
// May import: every module; only cli/ (and tests) import app.
export { learnedModelsOf } from './learned-models.js';
export { modelProcessCount, rulesBaseDirs, Service, type ServiceOptions } from './service.js';
export { createSource } from './source-factory.js';

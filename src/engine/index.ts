// Module engine: the reconcile loop and the snapshot store.
// Owns: orchestration of source → forecast → (anomaly → decide) per cycle (reconciler.ts, with the
// history window, learned-model choice, optimizer cycle and snapshot builder beside it), the
// scheduler, the snapshot store (the read model), rules loading, and the model host (the child
// process where models are fitted) with the ports for learned models and optimizer observations.
// May import: core, forecast, anomaly, decide; types only from source and config.
export { firstReadSeconds, forecastTargets, type HistoryRead, HistoryWindow, olderPointsPerCycle, type ReadOutcome } from './history-window.js';
export * from './learned-inputs.js';
export * from './learned-models.js';
export * from './model-host.js';
export * from './model-process.js';
export * from './model-process-pool.js';
export * from './observation-store.js';
export { optimizerReadingKey } from './optimizer-cycle.js';
export * from './reconciler.js';
export * from './policy-loader.js';
export * from './recorder.js';
export * from './scheduler.js';
export { isSharded, ownsWorkload, shardConfig, shardOf, workloadShardKey } from './shard.js';
export { type ReadBackRejection, ShardReadBack } from './shard-read-back.js';
export * from './snapshot.js';
export { WorkloadDecisions, type WorkloadPolicies } from './workload-decisions.js';
export { cycleInputs, listedQueues, profileOf, type QueueSpec, queueInput, ruleSetOf, usesWorkloads } from './workload-queues.js';

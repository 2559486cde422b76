// Module decide: turning a cycle's readings, forecasts and anomalies into scaling recommendations.
// Owns: the rule expression language, the rules file format, queue trend analysis, and the decision
// stages (collect, predict, evaluate rules, optimise, cooldowns, anomaly guard, stabilization,
// tolerance, oscillation damping, reactive floor, clamps) composed in decide(). Everything is pure.
// May import: core only.
export * from './context.js';
export * from './decide.js';
export * from './decision.js';
export * from './input.js';
export * from './policy.js';
export * from './reasons.js';
export * from './rules.js';
export * from './state.js';
export * from './trend.js';
export { compileExpression, type CompiledCondition, type CompiledExpression, type CompiledNumber, type CompileOptions, type Truth } from './expression/compile.js';
export { parseExpression, maxExpressionDepth } from './expression/parser.js';
export { tokenize, maxExpressionLength, type ExpressionError, type Token, type TokenKind } from './expression/tokenizer.js';
export { functionArity, isFunctionName, type ExpressionNode, type FunctionName } from './expression/ast.js';
export { stabilizedReplicas } from './stages/stabilization.js';
export { isOscillating } from './stages/oscillation.js';
export { forecastConfidence } from './stages/predict.js';

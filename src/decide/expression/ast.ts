/**
 * The syntax tree of a rule expression. Every node keeps two 1-based positions: `position`, of
 * its own token (the operator of a binary node), and `start`, of its first character (an opening
 * parenthesis included), which is where a type error about the whole node points.
 */

/** Arithmetic operators. */
export type ArithmeticOperator = '+' | '-' | '*' | '/';
/** Comparison operators. */
export type ComparisonOperator = '>' | '>=' | '<' | '<=' | '==' | '!=';
/** Boolean connectives. */
export type LogicalOperator = 'and' | 'or';

/** The functions the language has: a fixed whitelist, nothing else can be called. */
export const functionArity = {
  min: { min: 1, max: Number.POSITIVE_INFINITY },
  max: { min: 1, max: Number.POSITIVE_INFINITY },
  abs: { min: 1, max: 1 },
  ceil: { min: 1, max: 1 },
  floor: { min: 1, max: 1 },
  // The first finite argument (NaN when none is): lets a rule read an optional input, such as
  // `learned_replicas`, without a missing one making the whole expression missing.
  coalesce: { min: 1, max: Number.POSITIVE_INFINITY },
} as const;

/** A whitelisted function name. */
export type FunctionName = keyof typeof functionArity;

/** True when `name` is a whitelisted function (own keys only: "constructor" is not one). */
export function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(functionArity, name);
}

/** A node of the tree. */
export type ExpressionNode =
  | { readonly kind: 'number'; readonly value: number; readonly position: number; readonly start: number }
  | { readonly kind: 'boolean'; readonly value: boolean; readonly position: number; readonly start: number }
  | { readonly kind: 'variable'; readonly name: string; readonly position: number; readonly start: number }
  | { readonly kind: 'call'; readonly name: FunctionName; readonly args: readonly ExpressionNode[]; readonly position: number; readonly start: number }
  | { readonly kind: 'negate'; readonly operand: ExpressionNode; readonly position: number; readonly start: number }
  | { readonly kind: 'not'; readonly operand: ExpressionNode; readonly position: number; readonly start: number }
  | { readonly kind: 'arithmetic'; readonly operator: ArithmeticOperator; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly position: number; readonly start: number }
  | { readonly kind: 'compare'; readonly operator: ComparisonOperator; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly position: number; readonly start: number }
  | { readonly kind: 'logical'; readonly operator: LogicalOperator; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly position: number; readonly start: number };

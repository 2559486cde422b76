import type { Result } from '../../core/index.js';
import type { VariableTable } from '../context.js';
import type { ExpressionNode } from './ast.js';
import { parseExpression } from './parser.js';
import type { ExpressionError } from './tokenizer.js';

/**
 * The value of a condition: true, false, or undefined when it cannot be decided because an input
 * it needs is missing (NaN). `and`/`or`/`not` follow Kleene's three-valued logic, so
 * `a > 1 or b > 1` is still true when only `b` is missing, and `not (a > 1)` is not true when `a` is.
 */
export type Truth = boolean | undefined;

/** A compiled condition (boolean-valued). */
export interface CompiledCondition {
  readonly type: 'boolean';
  readonly text: string;
  /** The variables and constants the expression reads, in first-use order. */
  readonly variables: readonly string[];
  evaluate(values: Float64Array): Truth;
}

/** A compiled number-valued expression; NaN when an input it needs is missing. */
export interface CompiledNumber {
  readonly type: 'number';
  readonly text: string;
  readonly variables: readonly string[];
  evaluate(values: Float64Array): number;
}

/** A compiled expression of either type. */
export type CompiledExpression = CompiledCondition | CompiledNumber;

/** How to compile. */
export interface CompileOptions {
  /** Read these variables in place of the named ones (the forecast's upper quantile for its median). */
  readonly substitute?: ReadonlyMap<string, string>;
}

type NumberFn = (values: Float64Array) => number;
type TruthFn = (values: Float64Array) => Truth;
type Typed = { readonly type: 'number'; readonly fn: NumberFn } | { readonly type: 'boolean'; readonly fn: TruthFn };

class CompileFailure extends Error {
  constructor(readonly detail: ExpressionError) {
    super(detail.message);
  }
}

/** Edit distance, for "did you mean" hints on misspelt variable names. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function suggestion(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean "${best}"?)` : '';
}

const typeWord = (type: 'number' | 'boolean'): string => (type === 'number' ? 'a number' : 'a condition');

class Compiler {
  readonly variables: string[] = [];

  constructor(
    private readonly table: VariableTable,
    private readonly options: CompileOptions,
  ) {}

  #fail(position: number, message: string): never {
    throw new CompileFailure({ position, message });
  }

  #number(node: ExpressionNode, what: string): NumberFn {
    const typed = this.compile(node);
    if (typed.type !== 'number') this.#fail(node.start, `${what} must be a number, but this is a condition`);
    return typed.fn;
  }

  #truth(node: ExpressionNode, what: string): TruthFn {
    const typed = this.compile(node);
    if (typed.type !== 'boolean') this.#fail(node.start, `${what} must be a condition (a comparison), but this is a number`);
    return typed.fn;
  }

  compile(node: ExpressionNode): Typed {
    switch (node.kind) {
      case 'number': {
        const value = node.value;
        return { type: 'number', fn: () => value };
      }
      case 'boolean': {
        const value = node.value;
        return { type: 'boolean', fn: () => value };
      }
      case 'variable': {
        const name = this.options.substitute?.get(node.name) ?? node.name;
        const slot = this.table.indexOf(name);
        if (slot === undefined) this.#fail(node.position, `unknown variable "${node.name}"${suggestion(node.name, this.table.names)}`);
        if (!this.variables.includes(name)) this.variables.push(name);
        return { type: 'number', fn: (values) => values[slot]! };
      }
      case 'negate': {
        const operand = this.#number(node.operand, 'the operand of "-"');
        return { type: 'number', fn: (values) => -operand(values) };
      }
      case 'not': {
        const operand = this.#truth(node.operand, 'the operand of "not"');
        return {
          type: 'boolean',
          fn: (values) => {
            const value = operand(values);
            return value === undefined ? undefined : !value;
          },
        };
      }
      case 'arithmetic': {
        const left = this.#number(node.left, `the left side of "${node.operator}"`);
        const right = this.#number(node.right, `the right side of "${node.operator}"`);
        switch (node.operator) {
          case '+':
            return { type: 'number', fn: (values) => left(values) + right(values) };
          case '-':
            return { type: 'number', fn: (values) => left(values) - right(values) };
          case '*':
            return { type: 'number', fn: (values) => left(values) * right(values) };
          case '/':
            // x / 0 is not a number a rule can act on: it counts as missing, not as Infinity.
            return {
              type: 'number',
              fn: (values) => {
                const divisor = right(values);
                return divisor === 0 ? Number.NaN : left(values) / divisor;
              },
            };
        }
        break;
      }
      case 'compare': {
        const left = this.#number(node.left, `the left side of "${node.operator}"`);
        const right = this.#number(node.right, `the right side of "${node.operator}"`);
        const test = comparators[node.operator]!;
        return {
          type: 'boolean',
          fn: (values) => {
            const a = left(values);
            const b = right(values);
            return Number.isNaN(a) || Number.isNaN(b) ? undefined : test(a, b);
          },
        };
      }
      case 'logical': {
        const left = this.#truth(node.left, `the left side of "${node.operator}"`);
        const right = this.#truth(node.right, `the right side of "${node.operator}"`);
        if (node.operator === 'and') {
          return {
            type: 'boolean',
            fn: (values) => {
              const a = left(values);
              if (a === false) return false;
              const b = right(values);
              if (b === false) return false;
              return a === true && b === true ? true : undefined;
            },
          };
        }
        return {
          type: 'boolean',
          fn: (values) => {
            const a = left(values);
            if (a === true) return true;
            const b = right(values);
            if (b === true) return true;
            return a === false && b === false ? false : undefined;
          },
        };
      }
      case 'call': {
        const args = node.args.map((arg, index) => this.#number(arg, `argument ${index + 1} of ${node.name}`));
        switch (node.name) {
          case 'min':
            return { type: 'number', fn: (values) => args.reduce((acc, arg) => Math.min(acc, arg(values)), Number.POSITIVE_INFINITY) };
          case 'max':
            return { type: 'number', fn: (values) => args.reduce((acc, arg) => Math.max(acc, arg(values)), Number.NEGATIVE_INFINITY) };
          case 'abs':
            return { type: 'number', fn: (values) => Math.abs(args[0]!(values)) };
          case 'ceil':
            return { type: 'number', fn: (values) => Math.ceil(args[0]!(values)) };
          case 'floor':
            return { type: 'number', fn: (values) => Math.floor(args[0]!(values)) };
          case 'coalesce':
            return {
              type: 'number',
              fn: (values) => {
                for (const arg of args) {
                  const value = arg(values);
                  if (Number.isFinite(value)) return value;
                }
                return Number.NaN;
              },
            };
        }
      }
    }
    // Unreachable: every node kind returns above; kept for the type checker.
    return this.#fail(1, 'unsupported expression');
  }
}

const comparators: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/**
 * Parses, type-checks and compiles an expression against a variable table. Unknown variables,
 * a number where a condition is needed (and the reverse) and anything outside the grammar are
 * errors with the 1-based position they start at. `expected` says which type the caller needs.
 */
export function compileExpression<T extends 'boolean' | 'number'>(
  text: string,
  expected: T,
  table: VariableTable,
  options: CompileOptions = {},
): Result<T extends 'boolean' ? CompiledCondition : CompiledNumber, ExpressionError> {
  const parsed = parseExpression(text);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const compiler = new Compiler(table, options);
  let typed: Typed;
  try {
    typed = compiler.compile(parsed.node);
  } catch (error) {
    if (error instanceof CompileFailure) return { ok: false, error: error.detail };
    throw error;
  }
  if (typed.type !== expected) {
    return {
      ok: false,
      error: { position: 1, message: `expected ${typeWord(expected)}, but the expression is ${typeWord(typed.type)}${expected === 'boolean' ? ' (add a comparison such as "> 100")' : ''}` },
    };
  }
  const variables = Object.freeze([...compiler.variables]);
  const compiled = typed.type === 'boolean' ? { type: 'boolean' as const, text, variables, evaluate: typed.fn } : { type: 'number' as const, text, variables, evaluate: typed.fn };
  return { ok: true, value: compiled as T extends 'boolean' ? CompiledCondition : CompiledNumber };
}

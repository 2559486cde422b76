import { describe, expect, it } from 'vitest';
import { compileExpression, maxExpressionDepth, maxExpressionLength, parseExpression, tokenize, VariableTable } from '../../../src/decide/index.js';

const table = new VariableTable(['backlog_per_worker']);

/** Values for a context: named slots set, every other slot missing (NaN). */
function values(named: Readonly<Record<string, number>>): Float64Array {
  const out = table.emptyValues();
  for (const [name, value] of Object.entries(named)) out[table.indexOf(name)!] = value;
  return out;
}

function condition(text: string) {
  const compiled = compileExpression(text, 'boolean', table);
  if (!compiled.ok) throw new Error(`${text}: position ${compiled.error.position}: ${compiled.error.message}`);
  return compiled.value;
}

function number(text: string) {
  const compiled = compileExpression(text, 'number', table);
  if (!compiled.ok) throw new Error(`${text}: position ${compiled.error.position}: ${compiled.error.message}`);
  return compiled.value;
}

function rejection(text: string, type: 'boolean' | 'number' = 'boolean') {
  const compiled = compileExpression(text, type, table);
  if (compiled.ok) throw new Error(`"${text}" was accepted`);
  return compiled.error;
}

describe('tokenizer', () => {
  it('splits numbers, names, operators and parentheses with 1-based positions', () => {
    const lexed = tokenize('queue_depth >= 1.5e3 and (x!=2)');
    expect(lexed.ok).toBe(true);
    if (!lexed.ok) return;
    expect(lexed.tokens.map((t) => [t.kind, t.text, t.position])).toEqual([
      ['name', 'queue_depth', 1],
      ['operator', '>=', 13],
      ['number', '1.5e3', 16],
      ['name', 'and', 22],
      ['lparen', '(', 26],
      ['name', 'x', 27],
      ['operator', '!=', 28],
      ['number', '2', 30],
      ['rparen', ')', 31],
      ['end', '', 32],
    ]);
  });
});

describe('evaluation', () => {
  const ctx = values({ queue_depth: 1500, cpu_percent: 40, current_replicas: 4, backlog_per_worker: 100, predicted_queue_depth_p90: 2500 });

  it.each([
    ['queue_depth > 1000', true],
    ['queue_depth > 1000 and cpu_percent > 80', false],
    ['queue_depth > 1000 or cpu_percent > 80', true],
    ['not (queue_depth > 1000)', false],
    ['not not queue_depth >= 1500', true],
    ['queue_depth == 1500 and cpu_percent != 41', true],
    ['queue_depth / backlog_per_worker > current_replicas * 3', true],
    ['-cpu_percent < -39.5', true],
    ['max(queue_depth, predicted_queue_depth_p90) >= 2500', true],
    ['min(1, 2, 3) == 1 and abs(-2) == 2 and ceil(1.2) == 2 and floor(1.8) == 1', true],
    ['1 + 2 * 3 == 7 and (1 + 2) * 3 == 9 and 8 / 4 / 2 == 1 and 10 - 4 - 3 == 3', true],
    ['true and not false', true],
    ['queue_depth>1000 and(cpu_percent<50)', true],
  ])('%s is %s', (text, expected) => {
    expect(condition(text).evaluate(ctx)).toBe(expected);
  });

  it('computes numbers (demand expressions)', () => {
    expect(number('queue_depth / backlog_per_worker').evaluate(ctx)).toBe(15);
    expect(number('current_replicas * cpu_percent / 70').evaluate(ctx)).toBeCloseTo((4 * 40) / 70, 12);
  });

  // Kleene logic: a missing input makes a comparison unknown, and unknown only decides when it must.
  it.each([
    ['memory_percent > 50', undefined],
    ['not (memory_percent > 50)', undefined],
    ['memory_percent > 50 or queue_depth > 1000', true],
    ['memory_percent > 50 or queue_depth > 9000', undefined],
    ['memory_percent > 50 and queue_depth > 9000', false],
    ['memory_percent > 50 and queue_depth > 1000', undefined],
    ['queue_depth / (cpu_percent - 40) > 1', undefined],
    ['max(memory_percent, 1) > 0', undefined],
  ])('%s is %s when memory_percent is missing', (text, expected) => {
    expect(condition(text).evaluate(ctx)).toBe(expected);
  });

  // coalesce: the first argument that is not missing, so an optional input (learned_replicas)
  // can be read without its absence making the whole demand missing.
  it.each([
    ['coalesce(learned_replicas, 0)', { learned_replicas: 7 }, 7],
    ['coalesce(learned_replicas, 0)', {}, 0],
    ['coalesce(learned_replicas, memory_percent, 3)', {}, 3],
    ['coalesce(learned_replicas, queue_depth / 0, 4)', { queue_depth: 10 }, 4],
    ['coalesce(learned_replicas, 0)', { learned_replicas: 0 }, 0],
    ['max(queue_depth / 100, coalesce(learned_replicas, 0))', { queue_depth: 50 }, 0.5],
    ['max(queue_depth / 100, coalesce(learned_replicas, 0))', { queue_depth: 50, learned_replicas: 9 }, 9],
    ['max(queue_depth / 100, coalesce(learned_replicas, 0))', { queue_depth: 900, learned_replicas: 4 }, 9],
  ])('%s with %j is %s', (text, named, expected) => {
    expect(number(text).evaluate(values(named))).toBe(expected);
  });

  it('coalesce of only missing values is missing, and a missing forecast still makes the demand missing', () => {
    expect(number('coalesce(learned_replicas, memory_percent)').evaluate(values({}))).toBeNaN();
    expect(number('max(predicted_queue_depth / 100, coalesce(learned_replicas, 0))').evaluate(values({ learned_replicas: 9 }))).toBeNaN();
    expect(condition('coalesce(learned_replicas) > 0').evaluate(values({}))).toBeUndefined();
  });

  it('lists the variables an expression reads', () => {
    expect(condition('queue_depth > backlog_per_worker and queue_depth < 5 or cpu_percent > 1').variables).toEqual(['queue_depth', 'backlog_per_worker', 'cpu_percent']);
  });

  it('reads substituted variables (the upper quantile twin)', () => {
    const compiled = compileExpression('predicted_queue_depth / 100', 'number', table, { substitute: new Map([['predicted_queue_depth', 'predicted_queue_depth_p90']]) });
    expect(compiled.ok && compiled.value.evaluate(ctx)).toBe(25);
    expect(compiled.ok && compiled.value.variables).toEqual(['predicted_queue_depth_p90']);
  });
});

describe('rejects everything outside the grammar, at its position', () => {
  it.each([
    // Prototype and global names are not variables.
    ['constructor > 1', 1, /unknown variable "constructor"/],
    ['__proto__ > 1', 1, /unknown variable "__proto__"/],
    ['queue_depth > toString', 15, /unknown variable "toString"/],
    ['hasOwnProperty > 0', 1, /unknown variable/],
    ['globalThis > 0', 1, /unknown variable/],
    ['this > 0', 1, /unknown variable "this"/],
    // Calls of anything but the whitelisted functions.
    ['constructor(1) > 0', 1, /"constructor" is not a function/],
    ['process(1) > 0', 1, /"process" is not a function/],
    ['eval(1) > 0', 1, /"eval" is not a function/],
    ['queue_depth(1) > 0', 1, /"queue_depth" is not a function/],
    ['(queue_depth)(1) > 0', 14, /unexpected "\("/],
    ['min() > 0', 1, /min takes at least 1 argument/],
    ['abs(1, 2) > 0', 1, /abs takes 1 argument/],
    ['coalesce() > 0', 1, /coalesce takes at least 1 argument/],
    // Property access, indexing, strings, assignment and other syntax.
    ['queue_depth.constructor > 0', 12, /property access/],
    ['queue_depth.__proto__ > 0', 12, /property access/],
    ['min(1).x > 0', 7, /property access/],
    ['queue_depth["x"] > 0', 12, /indexing/],
    ["'a' == 'a'", 1, /strings are not part/],
    ['"queue_depth" > 1', 1, /strings are not part/],
    ['`x` > 1', 1, /strings are not part/],
    ['queue_depth = 1', 13, /assignment/],
    ['queue_depth > 1 && cpu_percent > 1', 17, /write "and"/],
    ['queue_depth > 1 || cpu_percent > 1', 17, /write "and" \/ "or"/],
    ['!(queue_depth > 1)', 1, /write "not"/],
    ['queue_depth % 2 == 0', 13, /"%" is not an operator/],
    ['queue_depth > 1; cpu_percent > 1', 16, /";" is not part/],
    ['x => 1', 3, /assignment/],
    ['{} > 1', 1, /"\{" is not part/],
    ['queue_depth > 5m', 16, /units such as "5m"/],
    ['queue_depth > .5', 15, /digit before "\."/],
    ['queue_depth > 1.', 17, /digit after the decimal point/],
    ['queue_depth >', 14, /ends where a value was expected/],
    ['queue_depth > 1 cpu_percent', 17, /unexpected "cpu_percent" \(an operator such as "and" may be missing\)/],
    ['(queue_depth > 1', 17, /expected "\)" to close the "\(" at position 1/],
    ['queue_depth > 1)', 16, /unexpected "\)"/],
    ['and > 1', 1, /"and" needs an operand/],
    ['', 1, /empty/],
    // Chained comparisons and type errors.
    ['1 < queue_depth < 10', 17, /cannot be chained/],
    ['queue_depth and cpu_percent > 1', 1, /must be a condition/],
    ['(queue_depth > 1) + 1 > 0', 1, /must be a number/],
    ['-(queue_depth > 1)', 2, /must be a number/],
    ['1 + 2 > 0 and 3', 15, /must be a condition/],
    ['queue_depth', 1, /expected a condition, but the expression is a number/],
    // Misspelt variables are named, with the likely one.
    ['queue_dept > 1000', 1, /unknown variable "queue_dept" \(did you mean "queue_depth"\?\)/],
  ])('%j → position %i', (text, position, message) => {
    const error = rejection(text);
    expect(error.message).toMatch(message);
    expect(error.position).toBe(position);
  });

  it('refuses a condition where a number is needed', () => {
    expect(rejection('queue_depth > 1', 'number').message).toMatch(/expected a number, but the expression is a condition/);
  });

  it('bounds nesting and length instead of overflowing the stack', () => {
    const deep = `${'('.repeat(maxExpressionDepth + 5)}1${')'.repeat(maxExpressionDepth + 5)} > 0`;
    expect(rejection(deep).message).toMatch(/nested more than/);
    const nots = `${'not '.repeat(maxExpressionDepth + 5)}true`;
    expect(rejection(nots).message).toMatch(/nested more than/);
    expect(rejection(`${'1 + '.repeat(maxExpressionLength)}1 > 0`).message).toMatch(/longer than/);
  });

  it('never evaluates text: a rejected expression has no side effect to run', () => {
    // parseExpression builds a plain tree; nothing in it is executable.
    const parsed = parseExpression('max(queue_depth, 1) > 2');
    expect(parsed.ok).toBe(true);
    expect(JSON.stringify(parsed)).not.toMatch(/function/);
  });
});

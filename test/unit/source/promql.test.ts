import { describe, expect, test } from 'vitest';
import { isForesightError } from '../../../src/core/index.js';
import { compileTemplate, escapePromqlString, renderTemplate } from '../../../src/source/index.js';

/**
 * Reads the string literals of a PromQL expression the way the Prometheus lexer does (Go escapes,
 * `\x`, the opening quote), so that tests can check what a rendered query really contains.
 */
function stringLiterals(query: string): string[] {
  const literals: string[] = [];
  const simple: Record<string, string> = { a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  for (let i = 0; i < query.length; i++) {
    const open = query[i]!;
    if (open !== '"' && open !== "'") continue;
    let value = '';
    for (i++; i < query.length && query[i] !== open; i++) {
      const char = query[i]!;
      if (char === '\n') throw new Error('raw newline in a string literal');
      if (char !== '\\') {
        value += char;
        continue;
      }
      const escaped = query[++i]!;
      if (escaped === 'x') {
        value += String.fromCharCode(Number.parseInt(query.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (escaped === open) value += open;
      else if (simple[escaped] !== undefined) value += simple[escaped];
      else throw new Error(`unknown escape \\${escaped}`);
    }
    if (i >= query.length) throw new Error('unterminated string literal');
    literals.push(value);
  }
  return literals;
}

describe('escapePromqlString', () => {
  const cases: readonly { name: string; value: string; quote?: '"' | "'"; escaped: string }[] = [
    { name: 'leaves plain names alone', value: 'batch_processing', escaped: 'batch_processing' },
    { name: 'escapes a double quote', value: 'a"b', escaped: 'a\\"b' },
    { name: 'leaves a single quote in a double-quoted string', value: "a'b", escaped: "a'b" },
    { name: 'escapes a single quote in a single-quoted string', value: "a'b", quote: "'", escaped: "a\\'b" },
    { name: 'leaves a double quote in a single-quoted string', value: 'a"b', quote: "'", escaped: 'a"b' },
    { name: 'escapes a backslash', value: 'a\\b', escaped: 'a\\\\b' },
    { name: 'escapes a trailing backslash (it would escape the closing quote)', value: 'a\\', escaped: 'a\\\\' },
    { name: 'escapes a newline (a raw one ends the string with an error)', value: 'a\nb', escaped: 'a\\nb' },
    { name: 'escapes carriage return and tab', value: '\r\t', escaped: '\\r\\t' },
    { name: 'escapes other control characters as \\x', value: '\u0001\u001f\u007f', escaped: '\\x01\\x1f\\x7f' },
    { name: 'keeps non-ASCII text', value: 'ünïcødé 🚀', escaped: 'ünïcødé 🚀' },
    { name: 'keeps braces and backticks', value: '{{queue}}`', escaped: '{{queue}}`' },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      expect(escapePromqlString(tc.value, tc.quote)).toBe(tc.escaped);
    });
  }
});

describe('renderTemplate', () => {
  const hostile = ['x"} or vector(1) #', 'x"}) or up{job=~".+', "x'} or vector(1)", 'x\\"} or vector(1)', 'trailing\\', 'new\nline"}', '{{queue}}'];
  for (const queue of hostile) {
    test(`a hostile queue name cannot leave the string literal: ${JSON.stringify(queue)}`, () => {
      for (const template of ['sum(x{queue="{{queue}}"})', "sum(x{queue='{{ queue }}'})"]) {
        const query = renderTemplate(template, { queue });
        // Exactly one literal, holding exactly the name, and the rest of the query untouched.
        expect(stringLiterals(query)).toEqual([queue]);
        expect(query.startsWith('sum(x{queue=')).toBe(true);
        expect(query.endsWith('})')).toBe(true);
      }
    });
  }

  const rendered: readonly { name: string; template: string; queue?: string; query: string }[] = [
    { name: 'replaces {{queue}}', template: 'sum(depth{queue="{{queue}}"})', queue: 'q1', query: 'sum(depth{queue="q1"})' },
    { name: 'tolerates spaces inside the braces', template: 'sum(depth{queue="{{ queue }}"})', queue: 'q1', query: 'sum(depth{queue="q1"})' },
    { name: 'replaces every occurrence', template: 'a{q="{{queue}}"} / b{q="{{queue}}"}', queue: 'q"', query: 'a{q="q\\""} / b{q="q\\""}' },
    { name: 'leaves a template without placeholders as it is', template: 'sum by (queue) (depth)', query: 'sum by (queue) (depth)' },
    { name: 'ignores quotes inside a comment', template: '# it\'s "fine"\nsum(x{q="{{queue}}"})', queue: 'a', query: '# it\'s "fine"\nsum(x{q="a"})' },
    { name: 'knows escaped quotes do not end a literal', template: 'x{a="\\"", q="{{queue}}"}', queue: 'b', query: 'x{a="\\"", q="b"}' },
  ];
  for (const tc of rendered) {
    test(tc.name, () => {
      expect(renderTemplate(tc.template, tc.queue === undefined ? {} : { queue: tc.queue })).toBe(tc.query);
    });
  }

  const rejected: readonly { name: string; template: string; message: RegExp }[] = [
    { name: 'an unknown placeholder', template: 'x{q="{{queue_name}}"}', message: /unknown placeholder "\{\{queue_name\}\}"/ },
    { name: 'a placeholder outside a string literal', template: 'x{q={{queue}}}', message: /must be inside a quoted string/ },
    { name: 'a placeholder in a raw string', template: 'x{q=`{{queue}}`}', message: /raw string/ },
    { name: 'a placeholder in a comment', template: 'x # {{queue}}', message: /must be inside a quoted string/ },
    { name: 'an unterminated placeholder', template: 'x{q="{{queue}"}', message: /unterminated placeholder/ },
  ];
  for (const tc of rejected) {
    test(`rejects ${tc.name} with a config error naming the template`, () => {
      let thrown: unknown;
      try {
        compileTemplate(tc.template);
      } catch (error) {
        thrown = error;
      }
      expect(isForesightError(thrown) && thrown.code).toBe('FORESIGHT_ERR_CONFIG_INVALID');
      expect((thrown as Error).message).toMatch(tc.message);
      expect((thrown as Error).message).toContain(JSON.stringify(tc.template));
    });
  }

  test('rejects rendering a queue template without a queue', () => {
    expect(() => renderTemplate('x{q="{{queue}}"}', {})).toThrow(/no queue was given/);
  });

  test('reports whether a template runs per queue', () => {
    expect(compileTemplate('x{q="{{queue}}"}').usesQueue).toBe(true);
    expect(compileTemplate('sum by (queue) (x)').usesQueue).toBe(false);
  });
});

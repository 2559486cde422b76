import { describe, expect, test } from 'vitest';
import { everything, formatLabelSelector, parseLabelSelector, requiredValues, selectorMatches, type LabelSelector } from '../../../../src/publish/external-metrics/index.js';

function parse(text: string): LabelSelector {
  const parsed = parseLabelSelector(text);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to parse: ${parsed.error}`);
  return parsed.value;
}

const labels = {
  orders15: { queue: 'orders', horizon: '15m', quantile: '0.5' },
  orders1h: { queue: 'orders', horizon: '1h', quantile: '0.9' },
  claims: { queue: 'claims.east_2', horizon: '15m', quantile: '0.5' },
  replicas: { resource: 'worker_processes', count: '7' },
  none: {},
} as const satisfies Record<string, Record<string, string>>;

type Name = keyof typeof labels;

/** Selector text, canonical form (as the HPA would send it), and which label sets it matches. */
const cases: readonly { readonly selector: string; readonly canonical: string; readonly matches: readonly Name[] }[] = [
  { selector: '', canonical: '', matches: ['orders15', 'orders1h', 'claims', 'replicas', 'none'] },
  { selector: '   ', canonical: '', matches: ['orders15', 'orders1h', 'claims', 'replicas', 'none'] },
  { selector: 'queue=orders', canonical: 'queue=orders', matches: ['orders15', 'orders1h'] },
  { selector: 'queue==orders', canonical: 'queue==orders', matches: ['orders15', 'orders1h'] },
  { selector: 'queue = orders', canonical: 'queue=orders', matches: ['orders15', 'orders1h'] },
  { selector: 'queue!=orders', canonical: 'queue!=orders', matches: ['claims', 'replicas', 'none'] },
  { selector: 'queue=orders,horizon=15m', canonical: 'horizon=15m,queue=orders', matches: ['orders15'] },
  { selector: 'horizon=15m,queue=orders', canonical: 'horizon=15m,queue=orders', matches: ['orders15'] },
  { selector: 'queue in (orders, claims.east_2)', canonical: 'queue in (claims.east_2,orders)', matches: ['orders15', 'orders1h', 'claims'] },
  { selector: 'queue in (orders,orders)', canonical: 'queue in (orders)', matches: ['orders15', 'orders1h'] },
  { selector: 'queue notin (orders)', canonical: 'queue notin (orders)', matches: ['claims', 'replicas', 'none'] },
  { selector: 'queue', canonical: 'queue', matches: ['orders15', 'orders1h', 'claims'] },
  { selector: '!queue', canonical: '!queue', matches: ['replicas', 'none'] },
  { selector: ' ! queue ', canonical: '!queue', matches: ['replicas', 'none'] },
  { selector: 'queue,!resource', canonical: 'queue,!resource', matches: ['orders15', 'orders1h', 'claims'] },
  { selector: 'count>5', canonical: 'count>5', matches: ['replicas'] },
  { selector: 'count<7', canonical: 'count<7', matches: [] },
  { selector: 'count<8,count>0', canonical: 'count<8,count>0', matches: ['replicas'] },
  { selector: 'quantile>0', canonical: 'quantile>0', matches: [] }, // "0.5" is not an integer: no match, as in Kubernetes
  { selector: 'queue=', canonical: 'queue=', matches: [] }, // the empty value
  { selector: 'queue!=', canonical: 'queue!=', matches: ['orders15', 'orders1h', 'claims', 'replicas', 'none'] },
  { selector: 'queue in (,orders)', canonical: 'queue in (,orders)', matches: ['orders15', 'orders1h'] },
  { selector: 'queue in ()', canonical: 'queue in ()', matches: [] },
  { selector: 'queue notin ()', canonical: 'queue notin ()', matches: ['orders15', 'orders1h', 'claims', 'replicas', 'none'] },
  { selector: 'queue in (orders),queue notin (orders)', canonical: 'queue in (orders),queue notin (orders)', matches: [] },
  { selector: 'in in (in)', canonical: 'in in (in)', matches: [] }, // keywords are ordinary words where a key or value goes
  { selector: 'example.com/team=a', canonical: 'example.com/team=a', matches: [] },
  { selector: 'queue=orders\t,\nhorizon=1h', canonical: 'horizon=1h,queue=orders', matches: ['orders1h'] },
];

describe('label selectors: grammar and matching (apimachinery labels.Parse semantics)', () => {
  for (const tc of cases) {
    test(`${JSON.stringify(tc.selector)} matches ${tc.matches.join(', ') || 'nothing'}`, () => {
      const selector = parse(tc.selector);
      const matched = (Object.keys(labels) as Name[]).filter((name) => selectorMatches(selector, labels[name]));
      expect(matched).toEqual(tc.matches);
      expect(formatLabelSelector(selector)).toBe(tc.canonical);
    });
  }

  test('the canonical form parses back to the same selector', () => {
    for (const tc of cases) {
      const once = parse(tc.selector);
      expect(parse(formatLabelSelector(once))).toEqual(once);
    }
  });

  test('the empty selector is "everything"', () => {
    expect(parse('')).toBe(everything);
  });
});

describe('label selectors: errors name what was wrong', () => {
  const errors: readonly { readonly selector: string; readonly message: RegExp }[] = [
    { selector: 'queue in (', message: /found end of string, expected: ',', '\)' or a value/ },
    { selector: 'queue in orders', message: /found 'orders', expected: '\('/ },
    { selector: 'queue in (a b)', message: /found 'b', expected: ',' or '\)'/ },
    { selector: 'queue=a b', message: /found 'b', expected: ',' or end of string/ },
    { selector: 'queue=a,', message: /found end of string, expected: a label key after ','/ },
    { selector: ',queue=a', message: /found ',', expected: a label key/ },
    { selector: 'queue ~ a', message: /found '~', expected one of: in, notin/ },
    { selector: '=a', message: /found '=', expected: a label key/ },
    { selector: '!queue=a', message: /expected: ',' or end of string after '!queue'/ },
    { selector: 'queue=(a)', message: /found '\(', expected: a value after '='/ },
    { selector: 'queue=a!b', message: /found '!', expected: ',' or end of string/ },
    { selector: 'count>x', message: /must be an integer/ },
    { selector: 'count>', message: /must be an integer/ },
    { selector: 'count>-1', message: /value "-1" of label "count" is invalid/ }, // as in Kubernetes: a label value first
    { selector: 'Bad/key=a', message: /invalid prefix/ },
    { selector: `${'k'.repeat(64)}=a`, message: /label key .* is invalid/ },
    { selector: '-key=a', message: /label key "-key" is invalid/ },
    { selector: `queue=${'v'.repeat(64)}`, message: /value .* of label "queue" is invalid/ },
    { selector: 'queue=a/b', message: /value "a\/b" of label "queue" is invalid/ },
    { selector: 'queue=ünicode', message: /value "ünicode" of label "queue" is invalid/ },
    { selector: 'queue in (ok,-bad)', message: /value "-bad" of label "queue" is invalid/ },
    { selector: 'a'.repeat(10_000), message: /at most 8192 are accepted/ },
  ];
  for (const tc of errors) {
    test(`${JSON.stringify(tc.selector.slice(0, 40))} is refused`, () => {
      const parsed = parseLabelSelector(tc.selector);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(tc.message);
    });
  }
});

describe('requiredValues: the values a key must take', () => {
  test.each([
    ['queue=orders', ['orders']],
    ['queue in (b,a)', ['a', 'b']],
    ['queue in (a,b),queue=b', ['b']],
    ['queue!=a', undefined],
    ['queue', undefined],
    ['horizon=15m', undefined],
  ] as const)('%s → %j', (text, expected) => {
    expect(requiredValues(parse(text), 'queue')).toEqual(expected);
  });
});

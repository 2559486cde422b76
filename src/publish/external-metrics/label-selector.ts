/**
 * Kubernetes label selectors (`labelSelector=` of a list request), parsed and matched with the
 * semantics of apimachinery's `labels.Parse`:
 *
 * ```
 * selector    ::= requirement ("," requirement)*          (empty: everything)
 * requirement ::= ["!"] KEY [ ("=" | "==" | "!=" | ">" | "<") VALUE | ("in" | "notin") "(" VALUE ("," VALUE)* ")" ]
 * ```
 *
 * `KEY` alone means "exists", `!KEY` "does not exist"; `!=` and `notin` also match when the key is
 * absent; `>`/`<` compare integers. Whitespace separates tokens; `in`/`notin` are keywords only
 * where an operator is expected. Keys are qualified names (`prefix/name`), values label values (at
 * most 63 characters, possibly empty). The HPA sends `selector.String()`, which is this grammar.
 *
 * Pure: no I/O, no clock. Errors are values with a message that names the offending token.
 */
import { err, ok, type Result } from '../../core/index.js';

/** The operators of a requirement, spelled as apimachinery's `selection.Operator`. */
export type SelectorOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

/** One requirement of a selector: a key, an operator and its values (sorted, without duplicates). */
export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** A parsed selector: requirements sorted by key (stable), all of which must match. */
export interface LabelSelector {
  readonly requirements: readonly Requirement[];
}

/** The selector that matches everything. */
export const everything: LabelSelector = Object.freeze({ requirements: Object.freeze([]) });

/** Longest selector text accepted; a real HPA selector is a few hundred characters. */
export const maxSelectorLength = 8192;

type Token =
  | { readonly kind: 'identifier'; readonly text: string }
  | { readonly kind: 'operator'; readonly text: '=' | '==' | '!=' | '>' | '<' | '!' }
  | { readonly kind: '(' | ')' | ',' | 'end'; readonly text: string };

const specialSymbols = new Set(['=', '!', '(', ')', ',', '>', '<']);
const whitespace = new Set([' ', '\t', '\r', '\n']);
const symbolTokens = new Set(['=', '==', '!=', '>', '<', '!', '(', ')', ',']);

/** Splits the text into tokens; the longest run of special symbols that forms a token wins. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (whitespace.has(ch)) {
      i++;
      continue;
    }
    if (specialSymbols.has(ch)) {
      // Two-character operators first ("==", "!="), as the lexer of apimachinery does.
      const pair = text.slice(i, i + 2);
      const symbol = symbolTokens.has(pair) ? pair : ch;
      i += symbol.length;
      if (symbol === '(' || symbol === ')' || symbol === ',') tokens.push({ kind: symbol, text: symbol });
      else tokens.push({ kind: 'operator', text: symbol as '=' | '==' | '!=' | '>' | '<' | '!' });
      continue;
    }
    let end = i;
    while (end < text.length && !specialSymbols.has(text[end]!) && !whitespace.has(text[end]!)) end++;
    tokens.push({ kind: 'identifier', text: text.slice(i, end) });
    i = end;
  }
  tokens.push({ kind: 'end', text: 'end of string' });
  return tokens;
}

const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A short, printable rendering of user text for error messages. */
export function quoteInput(text: string, limit = 64): string {
  const cut = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return JSON.stringify(cut);
}

/** Why `key` is not a qualified name, or undefined when it is one. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !dnsSubdomain.test(prefix)) {
      return `label key ${quoteInput(key)} has an invalid prefix: expected a lowercase DNS subdomain of at most 253 characters before "/"`;
    }
  }
  if (name.length === 0 || name.length > 63 || !labelName.test(name)) {
    return `label key ${quoteInput(key)} is invalid: expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `value` is not a label value, or undefined when it is one (the empty string is one). */
export function labelValueProblem(key: string, value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !labelName.test(value)) {
    return `value ${quoteInput(value)} of label ${quoteInput(key)} is invalid: expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

const integerPattern = /^[+-]?\d{1,19}$/;

class Parser {
  #position = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  peek(): Token {
    return this.tokens[this.#position]!;
  }

  next(): Token {
    const token = this.tokens[this.#position]!;
    if (token.kind !== 'end') this.#position++;
    return token;
  }
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of string' : `'${token.text.length > 64 ? `${token.text.slice(0, 64)}…` : token.text}'`;
}

/** Parses the value list after "in"/"notin": "(" values ")", where values may be empty strings. */
function parseValueSet(parser: Parser): Result<string[], string> {
  const open = parser.next();
  if (open.kind !== '(') return err(`found ${describe(open)}, expected: '('`);
  const values: string[] = [];
  let expectValue = true;
  for (;;) {
    const token = parser.next();
    if (token.kind === 'identifier') {
      if (!expectValue) return err(`found ${describe(token)}, expected: ',' or ')'`);
      values.push(token.text);
      expectValue = false;
    } else if (token.kind === ',') {
      // "(a,,b)", "(,a)" and "(a,)" hold empty values, as in apimachinery.
      if (expectValue) values.push('');
      expectValue = true;
    } else if (token.kind === ')') {
      if (expectValue) values.push('');
      return ok(values);
    } else {
      return err(`found ${describe(token)}, expected: ',', ')' or a value`);
    }
  }
}

function parseRequirement(parser: Parser): Result<Requirement, string> {
  let negated = false;
  let token = parser.next();
  if (token.kind === 'operator' && token.text === '!') {
    negated = true;
    token = parser.next();
  }
  if (token.kind !== 'identifier') return err(`found ${describe(token)}, expected: a label key`);
  const key = token.text;
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== undefined) return err(keyProblem);
  const after = parser.peek();
  if (after.kind === ',' || after.kind === 'end') return ok({ key, operator: negated ? '!' : 'exists', values: [] });
  if (negated) return err(`found ${describe(after)}, expected: ',' or end of string after '!${key}'`);

  const operatorToken = parser.next();
  let operator: SelectorOperator;
  let values: string[];
  if (operatorToken.kind === 'identifier' && (operatorToken.text === 'in' || operatorToken.text === 'notin')) {
    operator = operatorToken.text;
    const set = parseValueSet(parser);
    if (!set.ok) return set;
    values = set.value;
  } else if (operatorToken.kind === 'operator' && operatorToken.text !== '!') {
    operator = operatorToken.text === '>' ? 'gt' : operatorToken.text === '<' ? 'lt' : operatorToken.text;
    const valueToken = parser.peek();
    if (valueToken.kind === ',' || valueToken.kind === 'end') values = [''];
    else if (valueToken.kind === 'identifier') values = [parser.next().text];
    else return err(`found ${describe(valueToken)}, expected: a value after '${operatorToken.text}'`);
  } else {
    return err(`found ${describe(operatorToken)}, expected one of: in, notin, =, ==, !=, >, <`);
  }
  for (const value of values) {
    const problem = labelValueProblem(key, value);
    if (problem !== undefined) return err(problem);
  }
  if ((operator === 'gt' || operator === 'lt') && !integerPattern.test(values[0]!)) {
    return err(`for '>' and '<' the value must be an integer, got ${quoteInput(values[0]!)} for label ${quoteInput(key)}`);
  }
  return ok({ key, operator, values: [...new Set(values)].sort() });
}

/**
 * Parses a label selector. The empty string (or only whitespace) selects everything. Errors name
 * what was found and what was expected, in apimachinery's words where it has them.
 */
export function parseLabelSelector(text: string): Result<LabelSelector, string> {
  if (text.length > maxSelectorLength) return err(`label selector is ${text.length} characters long; at most ${maxSelectorLength} are accepted`);
  const parser = new Parser(tokenize(text));
  const requirements: Requirement[] = [];
  if (parser.peek().kind === 'end') return ok(everything);
  for (;;) {
    const requirement = parseRequirement(parser);
    if (!requirement.ok) return err(`unable to parse requirement: ${requirement.error}`);
    requirements.push(requirement.value);
    const separator = parser.next();
    if (separator.kind === 'end') break;
    if (separator.kind !== ',') return err(`found ${describe(separator)}, expected: ',' or end of string`);
    const following = parser.peek();
    if (following.kind !== 'identifier' && !(following.kind === 'operator' && following.text === '!')) {
      return err(`found ${describe(following)}, expected: a label key after ','`);
    }
  }
  // Sorted by key like apimachinery, so that equal selectors print and cache the same way.
  return ok({
    requirements: requirements
      .map((r, index) => ({ r, index }))
      .sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.index - b.index))
      .map(({ r }) => r),
  });
}

function compareInteger(labelValue: string, requirementValue: string, operator: 'gt' | 'lt'): boolean {
  if (!integerPattern.test(labelValue)) return false;
  const left = BigInt(labelValue);
  const right = BigInt(requirementValue);
  return operator === 'gt' ? left > right : left < right;
}

/** True when the labels satisfy one requirement. */
export function requirementMatches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key]! : undefined;
  switch (requirement.operator) {
    case '=':
    case '==':
    case 'in':
      return value !== undefined && requirement.values.includes(value);
    case '!=':
    case 'notin':
      return value === undefined || !requirement.values.includes(value);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt':
      return value !== undefined && compareInteger(value, requirement.values[0]!, requirement.operator);
  }
}

/** True when the labels satisfy every requirement of the selector. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const requirement of selector.requirements) if (!requirementMatches(requirement, labels)) return false;
  return true;
}

/** True when some requirement of the selector is about `key`. */
export function selectorMentions(selector: LabelSelector, key: string): boolean {
  return selector.requirements.some((r) => r.key === key);
}

/**
 * The values `key` must take for the selector to match (from `=`, `==` and `in` requirements), or
 * undefined when the selector allows any value. Used to look items up instead of scanning them all.
 */
export function requiredValues(selector: LabelSelector, key: string): readonly string[] | undefined {
  let allowed: string[] | undefined;
  for (const r of selector.requirements) {
    if (r.key !== key || (r.operator !== '=' && r.operator !== '==' && r.operator !== 'in')) continue;
    allowed = allowed === undefined ? [...r.values] : allowed.filter((v) => r.values.includes(v));
  }
  return allowed;
}

/** The selector in the canonical text form of `labels.Selector.String()`. */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector.requirements
    .map((r) => {
      switch (r.operator) {
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.operator} (${r.values.join(',')})`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
        default:
          return `${r.key}${r.operator}${r.values[0]}`;
      }
    })
    .join(',');
}

/** A copy of the selector with `requirement` added (kept sorted by key). */
export function withRequirement(selector: LabelSelector, requirement: Requirement): LabelSelector {
  const requirements = [...selector.requirements];
  const at = requirements.findIndex((r) => r.key > requirement.key);
  requirements.splice(at < 0 ? requirements.length : at, 0, requirement);
  return { requirements };
}

/** A copy of the selector whose requirement values on `key` are rewritten by `canonical`. */
export function mapValues(selector: LabelSelector, key: string, canonical: (value: string) => string): LabelSelector {
  if (!selectorMentions(selector, key)) return selector;
  return {
    requirements: selector.requirements.map((r) => (r.key !== key || r.operator === 'gt' || r.operator === 'lt' ? r : { ...r, values: [...new Set(r.values.map(canonical))].sort() })),
  };
}

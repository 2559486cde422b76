import type { ArithmeticOperator, ComparisonOperator, ExpressionNode } from './ast.js';
import { functionArity, isFunctionName } from './ast.js';
import { type ExpressionError, type Token, tokenize } from './tokenizer.js';

/**
 * A recursive-descent parser for the rule language:
 *
 * ```
 * expression := or
 * or         := and ("or" and)*
 * and        := not ("and" not)*
 * not        := "not" not | comparison
 * comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?     -- never chained
 * sum        := product (("+" | "-") product)*
 * product    := unary (("*" | "/") unary)*
 * unary      := "-" unary | primary
 * primary    := NUMBER | "true" | "false" | NAME | FUNCTION "(" expression ("," expression)* ")" | "(" expression ")"
 * ```
 *
 * A name followed by "(" must be one of the whitelisted functions; anything else is refused here,
 * so "constructor()" or "process(1)" never become a call.
 */

/** Deepest nesting accepted; bounds the recursion of parsing and evaluation. */
export const maxExpressionDepth = 64;

const reservedWords = new Set(['and', 'or', 'not', 'true', 'false']);
const comparisonOperators = new Set<string>(['>', '>=', '<', '<=', '==', '!=']);

class ParseFailure extends Error {
  constructor(readonly detail: ExpressionError) {
    super(detail.message);
  }
}

class Parser {
  #index = 0;
  #depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  get #current(): Token {
    return this.tokens[this.#index]!;
  }

  #fail(position: number, message: string): never {
    throw new ParseFailure({ position, message });
  }

  #describe(token: Token): string {
    return token.kind === 'end' ? 'the end of the expression' : JSON.stringify(token.text);
  }

  #advance(): Token {
    const token = this.#current;
    if (token.kind !== 'end') this.#index++;
    return token;
  }

  #isWord(word: string): boolean {
    return this.#current.kind === 'name' && this.#current.text === word;
  }

  #enter(position: number): void {
    if (++this.#depth > maxExpressionDepth) this.#fail(position, `expression is nested more than ${maxExpressionDepth} levels deep`);
  }

  #leave(): void {
    this.#depth--;
  }

  parseAll(): ExpressionNode {
    const node = this.#expression();
    if (this.#current.kind !== 'end') {
      const token = this.#current;
      const hint = token.kind === 'name' || token.kind === 'number' || token.kind === 'lparen' ? ' (an operator such as "and" may be missing)' : '';
      this.#fail(token.position, `unexpected ${this.#describe(token)}${hint}`);
    }
    return node;
  }

  #expression(): ExpressionNode {
    this.#enter(this.#current.position);
    const node = this.#or();
    this.#leave();
    return node;
  }

  #or(): ExpressionNode {
    let left = this.#and();
    while (this.#isWord('or')) {
      const position = this.#advance().position;
      left = { kind: 'logical', operator: 'or', left, right: this.#and(), position, start: left.start };
    }
    return left;
  }

  #and(): ExpressionNode {
    let left = this.#not();
    while (this.#isWord('and')) {
      const position = this.#advance().position;
      left = { kind: 'logical', operator: 'and', left, right: this.#not(), position, start: left.start };
    }
    return left;
  }

  #not(): ExpressionNode {
    if (this.#isWord('not')) {
      const position = this.#advance().position;
      this.#enter(position);
      const operand = this.#not();
      this.#leave();
      return { kind: 'not', operand, position, start: position };
    }
    return this.#comparison();
  }

  #comparison(): ExpressionNode {
    const left = this.#sum();
    if (this.#current.kind === 'operator' && comparisonOperators.has(this.#current.text)) {
      const operator = this.#advance();
      const right = this.#sum();
      const next = this.#current;
      if (next.kind === 'operator' && comparisonOperators.has(next.text)) {
        this.#fail(next.position, 'comparisons cannot be chained; write "a < b and b < c"');
      }
      return { kind: 'compare', operator: operator.text as ComparisonOperator, left, right, position: operator.position, start: left.start };
    }
    return left;
  }

  #sum(): ExpressionNode {
    let left = this.#product();
    while (this.#current.kind === 'operator' && (this.#current.text === '+' || this.#current.text === '-')) {
      const operator = this.#advance();
      left = { kind: 'arithmetic', operator: operator.text as ArithmeticOperator, left, right: this.#product(), position: operator.position, start: left.start };
    }
    return left;
  }

  #product(): ExpressionNode {
    let left = this.#unary();
    while (this.#current.kind === 'operator' && (this.#current.text === '*' || this.#current.text === '/')) {
      const operator = this.#advance();
      left = { kind: 'arithmetic', operator: operator.text as ArithmeticOperator, left, right: this.#unary(), position: operator.position, start: left.start };
    }
    return left;
  }

  #unary(): ExpressionNode {
    if (this.#current.kind === 'operator' && this.#current.text === '-') {
      const position = this.#advance().position;
      this.#enter(position);
      const operand = this.#unary();
      this.#leave();
      return { kind: 'negate', operand, position, start: position };
    }
    return this.#primary();
  }

  #primary(): ExpressionNode {
    const token = this.#current;
    switch (token.kind) {
      case 'number': {
        this.#advance();
        const value = Number(token.text);
        if (!Number.isFinite(value)) this.#fail(token.position, `number ${token.text} is out of range`);
        return { kind: 'number', value, position: token.position, start: token.position };
      }
      case 'lparen': {
        this.#advance();
        const inner = this.#expression();
        if (this.#current.kind !== 'rparen') this.#fail(this.#current.position, `expected ")" to close the "(" at position ${token.position}, found ${this.#describe(this.#current)}`);
        this.#advance();
        return { ...inner, start: token.position };
      }
      case 'name': {
        this.#advance();
        if (token.text === 'true' || token.text === 'false') return { kind: 'boolean', value: token.text === 'true', position: token.position, start: token.position };
        if (reservedWords.has(token.text)) this.#fail(token.position, `"${token.text}" needs an operand before it`);
        if (this.#current.kind === 'lparen') return this.#call(token);
        return { kind: 'variable', name: token.text, position: token.position, start: token.position };
      }
      default:
        return this.#fail(token.position, token.kind === 'end' ? 'the expression ends where a value was expected' : `expected a value, found ${this.#describe(token)}`);
    }
  }

  #call(name: Token): ExpressionNode {
    if (!isFunctionName(name.text)) {
      this.#fail(name.position, `"${name.text}" is not a function; the only functions are ${Object.keys(functionArity).join(', ')}`);
    }
    const open = this.#advance();
    this.#enter(open.position);
    const args: ExpressionNode[] = [];
    if (this.#current.kind !== 'rparen') {
      args.push(this.#expression());
      while (this.#current.kind === 'comma') {
        this.#advance();
        args.push(this.#expression());
      }
    }
    if (this.#current.kind !== 'rparen') this.#fail(this.#current.position, `expected "," or ")" in the call of ${name.text}, found ${this.#describe(this.#current)}`);
    this.#advance();
    this.#leave();
    const arity = functionArity[name.text];
    if (args.length < arity.min || args.length > arity.max) {
      const wanted = arity.min === arity.max ? `${arity.min}` : `at least ${arity.min}`;
      this.#fail(name.position, `${name.text} takes ${wanted} argument(s), got ${args.length}`);
    }
    return { kind: 'call', name: name.text, args, position: name.position, start: name.position };
  }
}

/** Parses an expression into its syntax tree; or the first error, with its 1-based position. */
export function parseExpression(text: string): { readonly ok: true; readonly node: ExpressionNode } | { readonly ok: false; readonly error: ExpressionError } {
  const lexed = tokenize(text);
  if (!lexed.ok) return lexed;
  if (lexed.tokens.length === 1) return { ok: false, error: { position: 1, message: 'the expression is empty' } };
  try {
    return { ok: true, node: new Parser(lexed.tokens).parseAll() };
  } catch (error) {
    if (error instanceof ParseFailure) return { ok: false, error: error.detail };
    throw error;
  }
}

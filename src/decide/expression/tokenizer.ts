/**
 * The tokenizer of the rule expression language. It accepts numbers, names, the arithmetic and
 * comparison operators, parentheses and commas, and nothing else: a quote, a dot after a name, a
 * bracket or any other character is an error at its position, so that nothing outside the grammar
 * (strings, property access, indexing) ever reaches the parser.
 */

/** A token kind. Words (`and`, `or`, `not`, `true`, `false`, names) are all `name` tokens. */
export type TokenKind = 'number' | 'name' | 'operator' | 'lparen' | 'rparen' | 'comma' | 'end';

/** The operators the language has. */
export type OperatorText = '+' | '-' | '*' | '/' | '>' | '>=' | '<' | '<=' | '==' | '!=';

/** One token; `position` is the 1-based column of its first character in the expression. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: number;
}

/** A lexical or syntax error at a 1-based position of the expression. */
export interface ExpressionError {
  readonly position: number;
  readonly message: string;
}

/** The longest expression accepted; rules are one-liners, and a bound keeps parsing cheap. */
export const maxExpressionLength = 2000;

const twoCharOperators = new Set(['>=', '<=', '==', '!=']);
const oneCharOperators = new Set(['+', '-', '*', '/', '>', '<']);

/** Why a character cannot start a token, in words a rule author understands. */
function explainCharacter(char: string, previous: Token | undefined): string {
  if (char === '"' || char === "'" || char === '`') return `strings are not part of the rule language (found ${char})`;
  if (char === '.') {
    return previous?.kind === 'name' || previous?.kind === 'rparen' ? 'property access (".") is not part of the rule language' : 'a number needs a digit before "." (write 0.5, not .5)';
  }
  if (char === '[' || char === ']') return 'indexing ("[...]") is not part of the rule language';
  if (char === '=') return 'assignment ("=") is not part of the rule language; compare with "=="';
  if (char === '!') return '"!" is not an operator; write "not" (or "!=" to compare)';
  if (char === '&' || char === '|') return `"${char}" is not an operator; write "and" / "or"`;
  if (char === '%') return '"%" is not an operator';
  if (char === '{' || char === '}' || char === ';') return `"${char}" is not part of the rule language`;
  return `unexpected character ${JSON.stringify(char)}`;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isNameStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isNameChar = (c: string): boolean => isNameStart(c) || isDigit(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Splits an expression into tokens, ending with an `end` token; or the first error. */
export function tokenize(text: string): { readonly ok: true; readonly tokens: readonly Token[] } | { readonly ok: false; readonly error: ExpressionError } {
  if (text.length > maxExpressionLength) {
    return { ok: false, error: { position: maxExpressionLength + 1, message: `expression is longer than ${maxExpressionLength} characters` } };
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const position = i + 1;
    if (isDigit(c)) {
      let j = i;
      while (j < text.length && isDigit(text[j]!)) j++;
      if (text[j] === '.') {
        j++;
        if (!isDigit(text[j] ?? '')) return { ok: false, error: { position: j + 1, message: 'expected a digit after the decimal point' } };
        while (j < text.length && isDigit(text[j]!)) j++;
      }
      if (text[j] === 'e' || text[j] === 'E') {
        let k = j + 1;
        if (text[k] === '+' || text[k] === '-') k++;
        if (isDigit(text[k] ?? '')) {
          while (k < text.length && isDigit(text[k]!)) k++;
          j = k;
        }
      }
      if (j < text.length && isNameChar(text[j]!)) {
        return {
          ok: false,
          error: { position: j + 1, message: `a number cannot be followed by ${JSON.stringify(text[j])} (units such as "5m" are not supported; write the value in the variable's unit)` },
        };
      }
      tokens.push({ kind: 'number', text: text.slice(i, j), position });
      i = j;
      continue;
    }
    if (isNameStart(c)) {
      let j = i;
      while (j < text.length && isNameChar(text[j]!)) j++;
      tokens.push({ kind: 'name', text: text.slice(i, j), position });
      i = j;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (twoCharOperators.has(two)) {
      tokens.push({ kind: 'operator', text: two, position });
      i += 2;
      continue;
    }
    if (oneCharOperators.has(c)) {
      tokens.push({ kind: 'operator', text: c, position });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, position });
      i++;
      continue;
    }
    return { ok: false, error: { position, message: explainCharacter(c, tokens[tokens.length - 1]) } };
  }
  tokens.push({ kind: 'end', text: '', position: text.length + 1 });
  return { ok: true, tokens };
}

import { ForesightError } from './errors.js';

/**
 * PromQL templates: the only way a user string (a queue name) enters a query.
 *
 * A template is PromQL with `{{queue}}` placeholders (`{{ queue }}` is accepted too), and for a
 * workload's own templates `{{namespace}}` and `{{workload}}`. The value is always escaped for the
 * string literal it stands in (and for RE2 inside a `=~`/`!~` matcher), so a hostile or merely odd
 * name can never end the literal and inject PromQL. To make that guarantee checkable, a placeholder
 * must sit inside a quoted string ("…" or '…'); a placeholder anywhere else is rejected when the
 * template is compiled, as is any placeholder the template's kind does not allow.
 *
 * The escaping follows the Prometheus lexer (promql/parser/lex.go `lexEscape`): inside a quoted
 * string only `\a \b \f \n \r \t \v \\`, the opening quote, octal, `\x`, `\u` and `\U` escapes are
 * valid, and a raw newline ends the string with an error.
 */

/** The quote character of a PromQL string literal that a value is escaped for. */
export type PromqlQuote = '"' | "'";

/** The values a template may refer to. */
export interface TemplateVars {
  /** The queue name; required by templates that use `{{queue}}`. */
  readonly queue?: string;
  /** The workload's namespace; required by templates that use `{{namespace}}`. */
  readonly namespace?: string;
  /** The workload's name; required by templates that use `{{workload}}`. */
  readonly workload?: string;
}

/** A placeholder name. */
export type PlaceholderName = keyof TemplateVars;

/** A template checked once (at startup or on reload) and rendered many times. */
export interface CompiledTemplate {
  /** The template as written. */
  readonly template: string;
  /** True when the template contains `{{queue}}`, so it must run once per queue. */
  readonly usesQueue: boolean;
  /** Substitutes the placeholders; throws when the template uses a placeholder whose value is missing from `vars`. */
  render(vars: TemplateVars): string;
}

const namedEscapes: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};

/**
 * Escapes `value` for use between the quotes of a PromQL string literal (double-quoted unless
 * `quote` says otherwise): backslashes, the quote itself, newlines and every other control
 * character are escaped; everything else (including non-ASCII text) is kept as it is.
 *
 * @example escapePromqlString('a"b\\c') === 'a\\"b\\\\c'
 */
export function escapePromqlString(value: string, quote: PromqlQuote = '"'): string {
  let out = '';
  for (const char of value) {
    const named = namedEscapes[char];
    if (named !== undefined) {
      out += named;
    } else if (char === quote) {
      out += `\\${quote}`;
    } else {
      const code = char.codePointAt(0)!;
      // Other C0 controls and DEL are legal raw, but invisible in logs and error messages.
      out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : char;
    }
  }
  return out;
}

// `{{ name }}`; the name is checked separately so that a typo gets its own message.
const placeholderPattern = /\{\{([^{}]*)\}\}/g;

type LexState = 'code' | 'double' | 'single' | 'backtick' | 'comment';

interface Segment {
  readonly text: string;
  /** For a placeholder: the quote of the string literal it is inside. */
  readonly quote?: PromqlQuote;
  /** For a placeholder: its name. */
  readonly name?: PlaceholderName;
  /** For a placeholder: true when its string is the value of a regex matcher (=~, !~), so RE2 metacharacters are escaped too. */
  readonly regex?: boolean;
}

/** Escapes RE2 metacharacters, so that a name in a regex matcher matches only itself ("a.b" never matches "axb"). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** True when the string literal that is open at the end of `before` is the value of a regex matcher. */
function inRegexMatcher(before: string, quote: PromqlQuote): boolean {
  // Walk back to the quote that opened the literal (skipping escaped quotes), then look at the operator before it.
  for (let i = before.length - 1; i >= 0; i--) {
    if (before[i] !== quote) continue;
    let backslashes = 0;
    for (let j = i - 1; j >= 0 && before[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 1) continue;
    return /[=!]~\s*$/.test(before.slice(0, i));
  }
  return false;
}

/** Advances the lexer state over literal template text (PromQL strings, raw strings and comments). */
function lex(text: string, start: LexState): LexState {
  let state = start;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    switch (state) {
      case 'code':
        if (char === '"') state = 'double';
        else if (char === "'") state = 'single';
        else if (char === '`') state = 'backtick';
        else if (char === '#') state = 'comment';
        break;
      case 'double':
      case 'single':
        if (char === '\\') i++;
        else if (char === (state === 'double' ? '"' : "'")) state = 'code';
        break;
      case 'backtick':
        if (char === '`') state = 'code';
        break;
      case 'comment':
        if (char === '\n') state = 'code';
        break;
    }
  }
  return state;
}

function templateError(template: string, problem: string): ForesightError {
  return new ForesightError('FORESIGHT_ERR_CONFIG_INVALID', `PromQL template ${JSON.stringify(template)}: ${problem}`);
}

/**
 * Checks a template and prepares it for rendering. Throws a `ForesightError`
 * (`FORESIGHT_ERR_CONFIG_INVALID`) naming the template when it has an unknown placeholder
 * (`{{queue_name}}`), an unterminated one (`{{queue}`), or a placeholder outside a quoted string.
 */
export function compileTemplate(template: string, allowed: readonly PlaceholderName[] = ['queue']): CompiledTemplate {
  const segments: Segment[] = [];
  let state: LexState = 'code';
  let last = 0;
  for (const match of template.matchAll(placeholderPattern)) {
    const literal = template.slice(last, match.index);
    segments.push({ text: literal });
    state = lex(literal, state);
    const name = match[1]!.trim() as PlaceholderName;
    if (!allowed.includes(name)) {
      const list = allowed.map((a) => `{{${a}}}`).join(', ');
      throw templateError(template, `unknown placeholder "${match[0]}"; ${allowed.length === 1 ? `the only placeholder is ${list}` : `the placeholders are ${list}`}`);
    }
    if (state === 'double' || state === 'single') {
      const quote: PromqlQuote = state === 'double' ? '"' : "'";
      segments.push({ text: match[0], quote, name, regex: inRegexMatcher(template.slice(0, match.index), quote) });
    } else if (state === 'backtick') {
      throw templateError(template, `{{${name}}} is inside a \`raw string\`, which has no escapes; use double quotes: ${name}="{{${name}}}"`);
    } else {
      throw templateError(template, `{{${name}}} must be inside a quoted string, e.g. ${name}="{{${name}}}", so that the value is escaped`);
    }
    last = match.index + match[0].length;
  }
  const tail = template.slice(last);
  segments.push({ text: tail });
  if (segments.some((s) => s.quote === undefined && s.text.includes('{{'))) {
    throw templateError(template, 'unterminated placeholder: "{{" without a matching "}}"');
  }
  const usesQueue = segments.some((s) => s.name === 'queue');
  const usesAny = segments.some((s) => s.name !== undefined);
  return {
    template,
    usesQueue,
    render(vars: TemplateVars): string {
      if (!usesAny) return template;
      return segments
        .map((s) => {
          if (s.name === undefined || s.quote === undefined) return s.text;
          const value = vars[s.name];
          if (value === undefined) throw templateError(template, `uses {{${s.name}}}, but no ${s.name} was given`);
          return escapePromqlString(s.regex === true ? escapeRegex(value) : value, s.quote);
        })
        .join('');
    },
  };
}

/**
 * Renders a template in one step: `{{queue}}` (or `{{ queue }}`) becomes the escaped queue name.
 * Throws like {@link compileTemplate}. Prefer compiling once when rendering repeatedly.
 *
 * @example renderTemplate('sum(x{queue="{{queue}}"})', { queue: 'a"b' }) === 'sum(x{queue="a\\"b"})'
 */
export function renderTemplate(template: string, vars: TemplateVars): string {
  return compileTemplate(template).render(vars);
}

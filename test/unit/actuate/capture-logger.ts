import { type Logger, pino } from 'pino';

/** One parsed log line. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A pino logger whose lines the test can read. */
export function captureLogger(): { readonly logger: Logger; readonly lines: LogLine[]; messages(minLevel?: number): string[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (text: string) => void lines.push(JSON.parse(text) as LogLine) });
  return { logger, lines, messages: (minLevel = 30) => lines.filter((l) => l.level >= minLevel).map((l) => l.msg) };
}

const unitSeconds: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
// Prometheus' duration grammar: one or more <number><unit> terms, largest unit first ("1h30m").
const durationPattern = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const termPattern = /(\d+)(ms|s|m|h|d|w|y)/g;

/**
 * Parses a Prometheus duration string ("30s", "15m", "1h30m", "7d") into seconds. Returns
 * undefined for anything else, so that callers can name the bad value in their own error.
 */
export function parseDurationSeconds(text: string): number | undefined {
  if (!durationPattern.test(text)) return undefined;
  let seconds = 0;
  for (const match of text.matchAll(termPattern)) seconds += Number(match[1]) * unitSeconds[match[2]!]!;
  return seconds;
}

/** Formats seconds as the shortest Prometheus duration ("900" → "15m", "5400" → "1h30m"). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let rest = Math.round(seconds * 1000);
  let out = '';
  for (const [unit, size] of [
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

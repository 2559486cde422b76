/** A one-line description of a thrown value, for error messages and logs (never a stack). */
export function failureMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error).split('\n')[0] ?? 'unknown error';
}

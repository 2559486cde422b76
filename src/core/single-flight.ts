/**
 * Wraps an async task so that calls while it runs share its promise instead of starting another:
 * a timer's reload and one asked for by hand never read the same files twice at once.
 */
export function singleFlight<T>(task: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= task().finally(() => {
      running = undefined;
    });
    return running;
  };
}

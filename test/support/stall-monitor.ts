/**
 * The longest time this thread's event loop went without running a 5 ms interval timer, minus the
 * interval: a direct measure of how long a request arriving at the worst moment would have waited.
 * (perf_hooks' monitorEventLoopDelay was seen to miss a 14 s block that ended just before it was read.)
 */
export function startStallMonitor(intervalMs = 5): { stop(): number } {
  let last = performance.now();
  let worstMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worstMs = Math.max(worstMs, now - last - intervalMs);
    last = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      // A block still in progress when stopped (the caller just resumed from it) counts too.
      return Math.max(worstMs, performance.now() - last - intervalMs);
    },
  };
}

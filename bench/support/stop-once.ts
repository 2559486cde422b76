/** A handler that stops the service once, then ends this child process (bench children stop on a message or disconnect). */
export function stopOnce(service: { stop(): Promise<void> }): () => void {
  let stopping = false;
  return () => {
    if (stopping) return;
    stopping = true;
    void service.stop().finally(() => process.exit(0));
  };
}

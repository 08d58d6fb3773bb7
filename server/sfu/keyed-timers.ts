/** One timer per key: starting one again replaces it; each runs at most once. */
export class KeyedTimers {
  #timers = new Map<string, ReturnType<typeof setTimeout>>();

  start(key: string, ms: number, run: () => void): void {
    this.stop(key);
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        run();
      }, ms),
    );
  }

  stop(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  /** Stops every timer (the server is closing). */
  stopAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}

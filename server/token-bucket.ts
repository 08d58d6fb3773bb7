/**
 * Token bucket: `capacity` tokens, refilled continuously at `perSecond`.
 * Time is passed in so tests and the server share one clock.
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;
  readonly capacity: number;
  readonly perSecond: number;

  constructor(capacity: number, perSecond: number, now: number) {
    this.capacity = capacity;
    this.perSecond = perSecond;
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  /** Takes one token if there is one; `now` in milliseconds. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + (elapsed * this.perSecond) / 1000,
    );
    this.#updatedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket has refilled completely by `now`. */
  isFull(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    return this.#tokens + (elapsed * this.perSecond) / 1000 >= this.capacity;
  }

  /** Milliseconds until the next token, for the error message. */
  msUntilNext(): number {
    return Math.max(0, Math.ceil(((1 - this.#tokens) * 1000) / this.perSecond));
  }
}

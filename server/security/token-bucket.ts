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

  /** Takes `amount` tokens if there are that many; `now` in milliseconds. */
  take(now: number, amount = 1): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + (elapsed * this.perSecond) / 1000,
    );
    this.#updatedAt = now;
    if (this.#tokens < amount) return false;
    this.#tokens -= amount;
    return true;
  }

  /** Whether the bucket has refilled completely by `now`. */
  isFull(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    return this.#tokens + (elapsed * this.perSecond) / 1000 >= this.capacity;
  }
}

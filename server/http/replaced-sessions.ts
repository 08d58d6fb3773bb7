/**
 * Sessions a newer one of the same sender took over, with when: their
 * client hears 409 `replaced` instead of 404 (after which it would POST
 * again and take the stream back: two tabs taking turns). Bounded in time
 * and in number (never more than there may be sessions).
 */

/** How long a session taken over is remembered (PATCH then gets 409). */
export const REPLACED_MEMORY_MS = 10 * 60_000;

export class ReplacedSessions {
  #at = new Map<string, number>();
  #max: () => number;

  /** `max`: the most sessions there may be (read at each remember). */
  constructor(max: () => number) {
    this.#max = max;
  }

  /** Whether `resource` was taken over within REPLACED_MEMORY_MS. */
  has(resource: string, now = performance.now()): boolean {
    const at = this.#at.get(resource);
    return at !== undefined && now - at < REPLACED_MEMORY_MS;
  }

  remember(resource: string, now = performance.now()): void {
    // Oldest first: forget what is past its time, and never more than
    // there may be sessions.
    for (const [old, at] of this.#at) {
      if (now - at < REPLACED_MEMORY_MS && this.#at.size < this.#max()) break;
      this.#at.delete(old);
    }
    this.#at.set(resource, now);
  }

  get size(): number {
    return this.#at.size;
  }
}

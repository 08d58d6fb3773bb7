import { PublishedState } from "./published-state.ts";

/**
 * An element's state as a pure function of one facts record. `apply()` is
 * the one place the facts change: it derives the state, publishes a change
 * through {@link PublishedState} and logs `connecting -> live (reason)` at
 * debug level.
 */
export class StateMachine<F, S extends string> {
  #host: HTMLElement;
  #facts: F;
  #derive: (facts: F) => S;
  #published: PublishedState<S>;

  constructor(host: HTMLElement, initial: F, derive: (facts: F) => S) {
    this.#host = host;
    this.#facts = initial;
    this.#derive = derive;
    this.#published = new PublishedState(host, derive(initial));
  }

  get facts(): F {
    return this.#facts;
  }

  get state(): S {
    return this.#published.current;
  }

  /** Changes the facts; returns the previous state if the state changed. */
  apply(patch: Partial<F>, reason: string): S | undefined {
    this.#facts = { ...this.#facts, ...patch };
    const previous = this.#published.current;
    const next = this.#derive(this.#facts);
    if (!this.#published.set(next)) return undefined;
    console.debug(
      `${this.#host.localName}: ${previous} -> ${next} (${reason})`,
    );
    return previous;
  }
}

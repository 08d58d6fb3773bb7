import { LiveStateChangeEvent } from "../live-events.ts";

/**
 * An element's state as a pure function of one facts record. `apply()` is
 * the one place the facts change: it derives the state and publishes a
 * change as the page sees it: the `state` attribute (`[state=live]`), the
 * custom state (`:state(live)`), and a `live-state-change` event; and logs
 * `connecting -> live (reason)` at debug level.
 */
export class StateMachine<F, S extends string> {
  #host: HTMLElement;
  // Set here and changed by apply() only: fields, not getters over private
  // ones (less of each bundle).
  declare facts: F;
  declare state: S;
  #derive: (facts: F) => S;
  #internals: ElementInternals | undefined;

  constructor(host: HTMLElement, initial: F, derive: (facts: F) => S) {
    this.#host = host;
    this.facts = initial;
    this.#derive = derive;
    this.state = derive(initial);
    try {
      this.#internals = host.attachInternals();
    } catch {
      // Custom states are an enhancement; the attribute always works.
    }
  }

  /**
   * Changes the facts; returns the previous state if the state changed.
   * Also writes the attribute the first time, which a constructor may not.
   */
  apply(patch: Partial<F>, reason: string): S | undefined {
    this.facts = { ...this.facts, ...patch };
    const host = this.#host;
    const previous = this.state;
    const next = this.#derive(this.facts);
    if (next === previous && host.getAttribute("state") === next) return;
    this.state = next;
    host.setAttribute("state", next);
    try {
      this.#internals?.states.delete(previous);
      this.#internals?.states.add(next);
    } catch {
      // Older browsers without CustomStateSet.
    }
    if (next === previous) return;
    host.dispatchEvent(new LiveStateChangeEvent(next, previous));
    console.debug(`${host.localName}: ${previous} -> ${next} (${reason})`);
    return previous;
  }
}

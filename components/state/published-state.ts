import { LiveStateChangeEvent } from "../live-events.ts";

/**
 * An element's state as the page sees it: the `state` attribute
 * (`[state=live]`), the custom state (`:state(live)`), and a
 * `live-state-change` event on every change. Owned by the element; its
 * `set()` is called from the element's one state transition.
 */
export class PublishedState<S extends string> {
  #host: HTMLElement;
  #internals: ElementInternals | undefined;
  #current: S;

  constructor(host: HTMLElement, initial: S) {
    this.#host = host;
    this.#current = initial;
    try {
      this.#internals = host.attachInternals();
    } catch {
      // Custom states are an enhancement; the attribute always works.
    }
  }

  get current(): S {
    return this.#current;
  }

  /**
   * Shows `next`; fires `live-state-change` and returns true if it changed.
   * Also writes the attribute the first time, which a constructor may not.
   */
  set(next: S): boolean {
    const previous = this.#current;
    if (next === previous && this.#host.getAttribute("state") === next) {
      return false;
    }
    this.#current = next;
    this.#host.setAttribute("state", next);
    try {
      this.#internals?.states.delete(previous);
      this.#internals?.states.add(next);
    } catch {
      // Older browsers without CustomStateSet.
    }
    if (next === previous) return false;
    this.#host.dispatchEvent(new LiveStateChangeEvent(next, previous));
    return true;
  }
}

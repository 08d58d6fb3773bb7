/**
 * A fake clock for timer-driven logic (backoff, pings, retries): time moves
 * only when a test ticks it, so nothing waits on the wall clock.
 */
import FakeTimers from "@sinonjs/fake-timers";

export type Clock = ReturnType<typeof FakeTimers.install>;

export function fakeClock(): Clock & Disposable {
  const clock = FakeTimers.install({
    toFake: [
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "Date",
      "performance",
    ],
  });
  return Object.assign(clock, { [Symbol.dispose]: () => clock.uninstall() });
}

/**
 * After the broadcaster reconnects, the server names every viewer it
 * connects to with one `viewer-joined` each (`broadcaster-accepted.named`
 * of them: not those the SFU serves or that cannot decrypt). Connections that still work are kept through it; once every viewer
 * was named, the connections to viewers it did not name (ids from before a
 * server restart) are the stale ones.
 */
export class ViewerReplay {
  #remaining: number;
  #named = new Set<string>();

  constructor(viewerCount: number) {
    this.#remaining = viewerCount;
  }

  /** Every expected viewer was named. */
  get complete(): boolean {
    return this.#remaining <= 0;
  }

  /** A replayed `viewer-joined`. */
  name(viewerId: string): void {
    if (this.#named.has(viewerId)) return;
    this.#named.add(viewerId);
    this.#remaining--;
  }

  /** Of the viewers we have connections to, those the replay did not name. */
  stale(current: Iterable<string>): string[] {
    return [...current].filter((viewerId) => !this.#named.has(viewerId));
  }
}

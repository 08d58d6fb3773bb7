/**
 * After the broadcaster reconnects, the server names every viewer it has
 * with one `viewer-joined` each (`broadcaster-accepted.viewerCount` of
 * them). Connections that still work are kept through it; once every viewer
 * was named, the connections to viewers it did not name (ids from before a
 * server restart) are the stale ones.
 *
 * The server names fewer than `viewerCount` while the SFU serves some of
 * them, or some cannot decrypt: then the replay never completes and no
 * connection is closed as stale. Known, and kept so: a count of the names
 * alone (tried) completed it and closed, 30 s later, connections the SFU
 * had given back to peer to peer (a failed subscription, a switch timed
 * out), since the server does not name those after a resume either.
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

/**
 * Server-assigned client ids, `client_` + 12 random base-36 characters.
 * Random rather than the seed's counter: a counter restarts with the server,
 * and a broadcaster that outlived a restart could then mistake a new viewer
 * for an old one with the same id.
 */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function newClientId(taken: (id: string) => boolean): string {
  const bytes = new Uint8Array(12);
  for (;;) {
    crypto.getRandomValues(bytes);
    let id = "client_";
    for (const byte of bytes) id += ALPHABET[byte % 36];
    if (!taken(id)) return id;
  }
}

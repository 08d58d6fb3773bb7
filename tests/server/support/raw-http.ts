/**
 * HTTP/1.1 over a bare TCP socket, for requests `fetch` will not send as
 * written (hop-by-hop headers, broken upgrades) and for clients that reset
 * the connection mid-request.
 */
import net from "node:net";

export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Sends `head` (CRLF lines, without the blank line) and `body`; reads one answer. */
export async function rawRequest(
  port: number,
  head: string[],
  body = "",
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `${head.join("\r\n")}\r\n\r\n${body}`;
    await conn.write(new TextEncoder().encode(request));
    let bytes = new Uint8Array(0);
    const chunk = new Uint8Array(16 * 1024);
    for (;;) {
      const text = new TextDecoder().decode(bytes);
      const end = text.indexOf("\r\n\r\n");
      if (end !== -1) {
        const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
        const headers = new Headers(
          lines.map((line): [string, string] => {
            const colon = line.indexOf(":");
            return [line.slice(0, colon), line.slice(colon + 1).trim()];
          }),
        );
        const length = Number(headers.get("content-length") ?? 0);
        const rest = text.slice(end + 4);
        if (rest.length >= length || headers.get("upgrade")) {
          return {
            status: Number(statusLine.split(" ")[1]),
            headers,
            body: rest.slice(0, length),
          };
        }
      }
      const n = await conn.read(chunk);
      if (n === null) throw new Error(`Connection closed after: ${text}`);
      const joined = new Uint8Array(bytes.length + n);
      joined.set(bytes);
      joined.set(chunk.subarray(0, n), bytes.length);
      bytes = joined;
    }
  } finally {
    conn.close();
  }
}

/** The lines of a valid upgrade request to `/ws`. */
export function upgradeHead(extra: string[] = []): string[] {
  return [
    "GET /ws HTTP/1.1",
    "Host: 127.0.0.1",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...extra,
  ];
}

/**
 * Sends a valid upgrade request and resets the connection (RST, not FIN)
 * right after it is written, as a phone losing its network does.
 */
export function upgradeThenReset(port: number): Promise<void> {
  const request = `${upgradeHead().join("\r\n")}\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(request, () => {
        socket.resetAndDestroy();
        resolve();
      });
    });
    socket.on("error", () => resolve());
  });
}

/** Open file descriptors of process `pid` (Linux), this one by default. */
export function openDescriptors(pid: number | "self" = "self"): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

/**
 * Request bodies as the WHIP and WHEP endpoints read them: never more of a
 * body than its limit. (Paths are read in routes.ts.)
 */

/**
 * Why a request is not answered as asked: its status, code and message,
 * and when to ask again (`Retry-After`, seconds) where the refusal says.
 */
export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/**
 * The body as text, read no further than `limit` bytes: a larger declared
 * length is refused before reading, a longer stream as soon as it passes
 * the limit (413 either way).
 */
export async function readLimited(
  request: Request,
  limit: number,
): Promise<string> {
  const tooLarge = new Refused(
    413,
    "too-large",
    `A body has at most ${limit} bytes`,
  );
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (!request.body) return "";
  const reader = request.body.getReader();
  if (declared > limit) {
    await reader.cancel().catch(() => {});
    throw tooLarge;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge;
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof Refused) throw error;
    throw new Refused(400, "bad-body", "The body could not be read");
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

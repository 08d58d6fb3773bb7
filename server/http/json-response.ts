/** A JSON response: /healthz's body, and every problem's (problem-details.ts). */
export function json(
  status: number,
  body: unknown,
  options: { headers?: Record<string, string>; type?: string } = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      ...options.headers,
      "content-type": options.type ?? "application/json",
    },
  });
}

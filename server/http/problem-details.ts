/**
 * Refusals over HTTP as RFC 9457 problem details (`application/problem+json`).
 * Our error code is the member `error` and the text is `message` as well as
 * `detail`: clients that read `{error, message}` before read the same, and
 * RFC 9457 readers get `title`, `status` and `detail`.
 */
import { json } from "./json-response.ts";

/** The reason phrases of the statuses the server refuses with. */
const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export const PROBLEM_JSON = "application/problem+json";

/** A problem-details response: `error` is one of docs/protocol.md's codes. */
export function problem(
  status: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body = {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail: message,
    error,
    message,
  };
  return json(status, body, { headers, type: PROBLEM_JSON });
}

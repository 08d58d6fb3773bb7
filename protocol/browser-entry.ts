/** The protocol module as the browser bundle exposes it. */
export * from "./error-codes.ts";
export * from "./messages.ts";
export * from "./parse-client-message.ts";
export * from "./parse-server-message.ts";

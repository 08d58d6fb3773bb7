/**
 * Only for server/signaling-server.ts's import until it is rewired: the
 * session adapter is http-session.ts, the endpoint session-endpoint.ts,
 * what they need of the server session-host.ts. Import those; delete this
 * file once nothing imports it.
 */
export { SessionEndpoint } from "./session-endpoint.ts";
export type { SessionHost } from "./session-host.ts";

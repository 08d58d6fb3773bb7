/**
 * ALLOWED_ORIGINS: which pages may open a WebSocket to this server (against
 * cross-site WebSocket hijacking). Entries are exact origins
 * (`https://shop.example`), subdomain wildcards (`https://*.example.com`) or
 * `*`. A request without an Origin header is not a browser page, and a
 * non-browser client could send any Origin anyway, so it is let through.
 */
export type OriginCheck = (origin: string | null) => boolean;

export function originCheck(allowed: string[] | undefined): OriginCheck {
  if (!allowed || allowed.includes("*")) return () => true;
  const exact = new Set(allowed.filter((entry) => !entry.includes("*")));
  const suffixes = allowed.filter((entry) => entry.includes("://*.")).map(
    (entry) => {
      const [scheme, host] = entry.split("://*.");
      return { scheme, host: `.${host}` };
    },
  );
  return (origin) => {
    if (origin === null) return true;
    if (exact.has(origin)) return true;
    const [scheme, host] = origin.split("://");
    return suffixes.some((suffix) =>
      scheme === suffix.scheme && host?.endsWith(suffix.host)
    );
  };
}

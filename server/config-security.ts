/**
 * The security settings of the environment (secrets, origins, the proxy,
 * the webhook, TURN), checked for `loadConfig`: config.ts holds every
 * other one.
 */
import { MIN_SECRET_BYTES } from "./security/tokens.ts";

/** The settings read here: ServerConfig's, documented there (no import: no cycle). */
export interface SecuritySettings {
  signalSecret: string | undefined;
  resumeSecret: string | undefined;
  allowedOrigins: string[] | undefined;
  trustProxy: boolean;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  turnUrls: string[] | undefined;
  turnSecret: string | undefined;
  stunUrls: string[] | undefined;
}

/** Splits a comma-separated variable into trimmed, non-empty items. */
function list(value: string | undefined): string[] | undefined {
  const items = value?.split(",").map((item) => item.trim()).filter(Boolean);
  return items?.length ? items : undefined;
}

/** Reads the security settings into `config`; each bad one is added to `problems`. */
export function readSecurity(
  env: Readonly<Record<string, string | undefined>>,
  config: SecuritySettings,
  problems: string[],
): void {
  const secret = env.SIGNAL_SECRET;
  if (secret) {
    if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) {
      problems.push(`SIGNAL_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
    } else config.signalSecret = secret;
  }
  const resume = env.RESUME_SECRET;
  if (resume) {
    if (new TextEncoder().encode(resume).length < MIN_SECRET_BYTES) {
      problems.push(`RESUME_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
    } else config.resumeSecret = resume;
  }
  config.allowedOrigins = list(env.ALLOWED_ORIGINS);
  for (const origin of config.allowedOrigins ?? []) {
    if (origin !== "*" && !/^https?:\/\/(\*\.)?[^/*]+$/.test(origin)) {
      problems.push(
        `ALLOWED_ORIGINS entries must look like https://shop.example or https://*.example.com, got ${
          JSON.stringify(origin)
        }`,
      );
    }
  }
  const trust = env.TRUST_PROXY?.trim().toLowerCase();
  if (trust) {
    if (trust === "1" || trust === "true") config.trustProxy = true;
    else if (trust !== "0" && trust !== "false") {
      problems.push(
        `TRUST_PROXY must be 1/true or 0/false, got ${JSON.stringify(trust)}`,
      );
    }
  }
  config.webhookUrl = env.WEBHOOK_URL?.trim() || undefined;
  config.webhookSecret = env.WEBHOOK_SECRET || undefined;
  if (config.webhookUrl) {
    if (!URL.canParse(config.webhookUrl)) {
      problems.push(
        `WEBHOOK_URL must be a URL, got ${JSON.stringify(config.webhookUrl)}`,
      );
    }
    if (!config.webhookSecret) {
      problems.push("WEBHOOK_URL needs WEBHOOK_SECRET to sign what it sends");
    }
  }
  config.turnUrls = list(env.TURN_URLS);
  config.turnSecret = env.TURN_SECRET || undefined;
  config.stunUrls = list(env.STUN_URLS);
  if (Boolean(config.turnUrls) !== Boolean(config.turnSecret)) {
    problems.push("TURN_URLS and TURN_SECRET go together");
  }
}

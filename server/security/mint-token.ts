/**
 * `deno task token --stream ID --role viewer|broadcaster [--ttl 1h] [--sub USER]
 * [--name NAME] [--max-viewers N]`: mints a stream token signed with
 * SIGNAL_SECRET from the environment and prints it on the last line.
 * For trying things out; a shop's backend calls `mintToken` itself.
 */
import { parseArgs } from "node:util";
import { mintToken, type StreamRole } from "./tokens.ts";

/** `90`, `90s`, `15m`, `1h`, `7d` → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`Cannot read duration ${JSON.stringify(text)}`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2]]!;
  return Number(match[1]) * unit;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      stream: { type: "string" },
      role: { type: "string", default: "viewer" },
      ttl: { type: "string", default: "1h" },
      sub: { type: "string", default: "demo-user" },
      name: { type: "string" },
      "max-viewers": { type: "string" },
    },
  });
  const secret = Deno.env.get("SIGNAL_SECRET");
  if (!secret) {
    console.error("Set SIGNAL_SECRET to the server's secret");
    Deno.exit(2);
  }
  if (!values.stream || !["viewer", "broadcaster"].includes(values.role!)) {
    console.error(
      "Usage: deno task token --stream ID --role viewer|broadcaster [--ttl 1h] [--sub USER]",
    );
    Deno.exit(2);
  }
  const ttlSeconds = parseDuration(values.ttl!);
  const token = await mintToken(secret, {
    sub: values.sub!,
    stream: values.stream,
    role: values.role as StreamRole,
    ...(values.name ? { name: values.name } : {}),
    ...(values["max-viewers"]
      ? { maxViewers: Number(values["max-viewers"]) }
      : {}),
  }, { ttlSeconds });
  console.error(
    `${values.role} token for stream ${values.stream}, subject ${values.sub}, valid ${ttlSeconds} s:`,
  );
  console.log(token);
}

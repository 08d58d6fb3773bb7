/**
 * A strict corporate firewall around one host of the test network, made
 * with iptables inside the host's own namespace (gone with it; nothing in
 * the root namespace): every UDP packet dropped, in and out, IPv4 and IPv6;
 * TCP only to the listed ports of one address (the hub's: the lab's site,
 * the signaling server, a TURN server); anything else dropped too. Loopback
 * stays open.
 *
 * Its counters say what the host tried and what got through: `udpDropped`
 * (packets the UDP rules dropped) and `udpLeft` (UDP packets that reached
 * the host's link, counted after the filter in `mangle POSTROUTING`).
 */
export interface Firewall {
  /** The address TCP may reach. */
  address: string;
  /** Its TCP ports that may be reached. */
  tcpPorts: number[];
}

export interface FirewallCounters {
  /** UDP packets dropped on the way out (IPv4 + IPv6). */
  udpDroppedOut: number;
  /** UDP packets dropped on the way in (IPv4 + IPv6). */
  udpDroppedIn: number;
  /** UDP packets that left on the host's link (must be 0). */
  udpLeft: number;
  /** TCP packets let out, per allowed port. */
  tcpOut: Record<number, number>;
}

const UDP_OUT = "lw-udp-out";
const UDP_IN = "lw-udp-in";
const UDP_LEFT = "lw-udp-left";

/** Puts `firewall` around namespace `ns`. */
export async function raiseFirewall(
  ns: string,
  firewall: Firewall,
): Promise<void> {
  const tcp = firewall.tcpPorts.flatMap((port) => [
    `-A OUTPUT -p tcp -d ${firewall.address} --dport ${port} -m comment --comment lw-tcp-${port} -j ACCEPT`,
    `-A INPUT -p tcp -s ${firewall.address} --sport ${port} -j ACCEPT`,
  ]);
  await restore(ns, "iptables-restore", [
    "*filter",
    ":INPUT DROP [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT DROP [0:0]",
    "-A INPUT -i lo -j ACCEPT",
    "-A OUTPUT -o lo -j ACCEPT",
    `-A INPUT -p udp -m comment --comment ${UDP_IN} -j DROP`,
    `-A OUTPUT -p udp -m comment --comment ${UDP_OUT} -j DROP`,
    ...tcp,
    "COMMIT",
    "*mangle",
    `-A POSTROUTING -p udp ! -o lo -m comment --comment ${UDP_LEFT}`,
    "COMMIT",
  ]);
  await restore(ns, "ip6tables-restore", [
    "*filter",
    ":INPUT DROP [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT DROP [0:0]",
    "-A INPUT -i lo -j ACCEPT",
    "-A OUTPUT -o lo -j ACCEPT",
    `-A INPUT -p udp -m comment --comment ${UDP_IN} -j DROP`,
    `-A OUTPUT -p udp -m comment --comment ${UDP_OUT} -j DROP`,
    "COMMIT",
    "*mangle",
    `-A POSTROUTING -p udp ! -o lo -m comment --comment ${UDP_LEFT}`,
    "COMMIT",
  ]);
}

/** What the firewall around `ns` counted so far. */
export async function firewallCounters(
  ns: string,
): Promise<FirewallCounters> {
  const counters: FirewallCounters = {
    udpDroppedOut: 0,
    udpDroppedIn: 0,
    udpLeft: 0,
    tcpOut: {},
  };
  for (const tool of ["iptables", "ip6tables"]) {
    for (const table of ["filter", "mangle"]) {
      const text = await run(ns, tool, ["-t", table, "-L", "-v", "-x", "-n"]);
      for (const line of text.split("\n")) {
        const packets = Number(line.trim().split(/\s+/)[0]);
        if (!Number.isFinite(packets)) continue;
        if (line.includes(`/* ${UDP_OUT} */`)) {
          counters.udpDroppedOut += packets;
        }
        if (line.includes(`/* ${UDP_IN} */`)) counters.udpDroppedIn += packets;
        if (line.includes(`/* ${UDP_LEFT} */`)) counters.udpLeft += packets;
        const tcp = /\/\* lw-tcp-(\d+) \*\//.exec(line);
        if (tcp) {
          const port = Number(tcp[1]);
          counters.tcpOut[port] = (counters.tcpOut[port] ?? 0) + packets;
        }
      }
    }
  }
  return counters;
}

async function restore(ns: string, tool: string, rules: string[]) {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, tool],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(rules.join("\n") + "\n"));
  await writer.close();
  const { success, stderr } = await child.output();
  if (!success) {
    throw new Error(
      `${tool} in ${ns}: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
}

async function run(ns: string, tool: string, args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, tool, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(
      `${tool} ${args.join(" ")} in ${ns}: ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/**
 * A link with latency in front of a server, for the lab (the namespaces
 * have no `netem`): listens on HOST:PORT over UDP and TCP and forwards to
 * HOST:TARGET, holding every datagram and every chunk of a stream `delay`
 * ms each way (a round trip `2 * delay` ms longer). A TCP connection's
 * handshake is one round trip too: the kernel accepts at once, so a
 * client's data is held until one round trip after the accept as well.
 * Run as its own process in the hub namespace, in front of coturn: a TURN
 * server that far away.
 *
 *   deno run -A delay-proxy.ts HOST PORT TARGET DELAY_MS
 *
 * Prints `{"listening":PORT}` once both listeners are open.
 */
import { createSocket, type Socket } from "node:dgram";
import { connect, createServer } from "node:net";

const [host, port, target, delay] = [
  Deno.args[0],
  Number(Deno.args[1]),
  Number(Deno.args[2]),
  Number(Deno.args[3]),
];
const later = (send: () => void, ms = delay) => setTimeout(send, ms);

// UDP: one upstream socket per client address, so replies find their way.
const front = createSocket("udp4");
const upstreams = new Map<string, Socket>();
front.on("message", (message, from) => {
  const key = `${from.address}:${from.port}`;
  let upstream = upstreams.get(key);
  if (!upstream) {
    const socket = createSocket("udp4");
    socket.on(
      "message",
      (reply) => later(() => front.send(reply, from.port, from.address)),
    );
    socket.bind(0, host);
    upstreams.set(key, socket);
    upstream = socket;
  }
  const to = upstream;
  later(() => to.send(message, target, host));
});

// TCP (and TLS inside it): each chunk held `delay` ms, in order.
const server = createServer((client) => {
  // The SYN, SYN-ACK round trip the kernel did not wait for.
  const handshaken = performance.now() + 2 * delay;
  const upstream = connect(target, host);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.on("data", (chunk) =>
    later(
      () => upstream.write(chunk),
      Math.max(0, handshaken - performance.now()) + delay,
    ));
  upstream.on("data", (chunk) => later(() => client.write(chunk)));
  client.on("end", () => later(() => upstream.end()));
  upstream.on("end", () => later(() => client.end()));
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
});

await Promise.all([
  new Promise<void>((resolve) => front.bind(port, host, resolve)),
  new Promise<void>((resolve) => server.listen(port, host, resolve)),
]);
console.log(JSON.stringify({ listening: port }));

/**
 * Bench only: the runtime's ceiling for signaling. A bare Deno WebSocket
 * relay that speaks just enough of the protocol for the load generator's
 * handshake: no validation, no limits, no audit, frames forwarded as
 * received. Anything our server costs on top of this is ours.
 *
 *   PORT=5099 deno run --allow-net --allow-env bench/bare-relay.ts
 */
if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? 5099);
  const clients = new Map<string, WebSocket>();
  const broadcasters = new Map<string, WebSocket>();
  const waiting = new Map<string, string[]>();
  let next = 0;
  let routed = 0;
  Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/healthz") return new Response("ok");
    if (path === "/metrics") {
      return new Response(`live_messages_routed_total ${routed}\n`);
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    const id = `client_${++next}`;
    socket.onopen = () => {
      clients.set(id, socket);
      socket.send(JSON.stringify({ type: "welcome", clientId: id }));
    };
    socket.onclose = () => clients.delete(id);
    socket.onmessage = (event) => {
      const text = event.data as string;
      const message = JSON.parse(text);
      switch (message.type) {
        case "broadcaster-ready": {
          broadcasters.set(message.streamId, socket);
          for (const viewerId of waiting.get(message.streamId) ?? []) {
            socket.send(
              JSON.stringify({
                type: "viewer-joined",
                streamId: message.streamId,
                viewerId,
              }),
            );
          }
          waiting.delete(message.streamId);
          return;
        }
        case "join-stream": {
          const broadcaster = broadcasters.get(message.streamId);
          if (broadcaster) {
            broadcaster.send(
              JSON.stringify({
                type: "viewer-joined",
                streamId: message.streamId,
                viewerId: id,
              }),
            );
          } else {
            const list = waiting.get(message.streamId) ?? [];
            list.push(id);
            waiting.set(message.streamId, list);
          }
          return;
        }
        default: {
          // Offers and candidates from a broadcaster name their viewer;
          // everything else goes to the stream's broadcaster, as sent.
          const target =
            message.viewerId && socket === broadcasters.get(message.streamId)
              ? clients.get(message.viewerId)
              : broadcasters.get(message.streamId);
          target?.send(
            socket === broadcasters.get(message.streamId)
              ? text
              : text.replace("{", `{"viewerId":"${id}",`),
          );
          routed++;
        }
      }
    };
    return response;
  });
}

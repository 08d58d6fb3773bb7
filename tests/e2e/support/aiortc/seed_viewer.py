"""
aiortc as a viewer written from the seed note: `seed_viewer.py WS_URL STREAM_ID`.
Joins the stream over WebSocket, answers every `webrtc-offer` on a new peer
connection, takes the broadcaster's trickled candidates, decodes what comes.
Its own candidates are in its answer (aiortc gathers before it answers).
"""
import json
from typing import Any, Dict, List, Optional

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription

from common import candidate_from_json, emit, main, peer_connection, receive, serve, stop_signal


async def run(url: str, stream_id: str) -> None:
    stop = stop_signal()
    pc: Optional[RTCPeerConnection] = None
    early: List[Dict[str, Any]] = []
    async with websockets.connect(url) as ws:

        async def send(message: Dict[str, Any]) -> None:
            await ws.send(json.dumps({"streamId": stream_id, **message}))

        async def handle(message: Dict[str, Any]) -> None:
            nonlocal pc
            kind = message.get("type")
            emit("signal", type=kind)
            if kind == "welcome":
                await send({"type": "join-stream"})
            elif kind == "webrtc-offer":
                if pc:
                    await pc.close()
                pc = peer_connection()
                receive(pc)
                early.clear()
                offer = message["offer"]
                await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                await send(
                    {"type": "webrtc-answer", "answer": {"type": "answer", "sdp": pc.localDescription.sdp}}
                )
                for value in early:
                    await add_candidate(value)
                early.clear()
            elif kind == "webrtc-ice-candidate":
                if pc and pc.remoteDescription:
                    await add_candidate(message["candidate"])
                else:
                    early.append(message["candidate"])
            elif kind == "broadcaster-left":
                if pc:
                    await pc.close()
                pc = None
            elif kind == "error":
                emit("error", message=f"{message.get('code')}: {message.get('message')}")

        async def add_candidate(value: Dict[str, Any]) -> None:
            candidate = candidate_from_json(value)
            if pc and candidate:
                await pc.addIceCandidate(candidate)

        await serve(ws, handle, stop)
        await send({"type": "leave-stream"})
        if pc:
            await pc.close()


if __name__ == "__main__":
    main(run)

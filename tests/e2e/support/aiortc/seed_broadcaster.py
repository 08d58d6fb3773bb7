"""
aiortc as a broadcaster written from the seed note:
`seed_broadcaster.py WS_URL STREAM_ID [--audio]`. Announces the stream, offers
every `viewer-joined` a new peer connection carrying a moving test pattern
(and silence with --audio), applies the viewer's answer and candidates. It
knows nothing of the SFU (an `sfu-publish` is only reported). SIGTERM:
`leave-stream`, then the socket closes with 1000.
"""
import json
from typing import Any, Dict, List

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from common import PatternTrack, candidate_from_json, emit, main, peer_connection, serve, stop_signal


async def run(url: str, stream_id: str, *flags: str) -> None:
    audio = "--audio" in flags
    stop = stop_signal()
    peers: Dict[str, RTCPeerConnection] = {}
    early: Dict[str, List[Dict[str, Any]]] = {}
    async with websockets.connect(url) as ws:

        async def send(message: Dict[str, Any]) -> None:
            await ws.send(json.dumps({"streamId": stream_id, **message}))

        async def close(viewer: str) -> None:
            pc = peers.pop(viewer, None)
            early.pop(viewer, None)
            if pc:
                await pc.close()

        async def handle(message: Dict[str, Any]) -> None:
            kind = message.get("type")
            viewer = message.get("viewerId")
            emit("signal", type=kind, **({"viewer": viewer} if viewer else {}))
            if kind == "welcome":
                await send({"type": "broadcaster-ready"})
            elif kind == "viewer-joined" and not message.get("sfu"):
                await close(viewer)
                pc = peers[viewer] = peer_connection(viewer)
                early[viewer] = []
                pc.addTrack(PatternTrack())
                if audio:
                    pc.addTrack(AudioStreamTrack())
                await pc.setLocalDescription(await pc.createOffer())
                await send(
                    {
                        "type": "webrtc-offer",
                        "viewerId": viewer,
                        "offer": {"type": "offer", "sdp": pc.localDescription.sdp},
                    }
                )
            elif kind == "webrtc-answer" and viewer in peers:
                pc = peers[viewer]
                answer = message["answer"]
                await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
                for value in early.get(viewer, []):
                    await add_candidate(pc, value)
                early[viewer] = []
            elif kind == "webrtc-ice-candidate" and viewer in peers:
                pc = peers[viewer]
                if pc.remoteDescription:
                    await add_candidate(pc, message["candidate"])
                else:
                    early[viewer].append(message["candidate"])
            elif kind == "viewer-left":
                await close(viewer)
            elif kind == "error":
                emit("error", message=f"{message.get('code')}: {message.get('message')}")

        async def add_candidate(pc: RTCPeerConnection, value: Dict[str, Any]) -> None:
            candidate = candidate_from_json(value)
            if candidate:
                await pc.addIceCandidate(candidate)

        await serve(ws, handle, stop)
        await send({"type": "leave-stream"})
        for viewer in list(peers):
            await close(viewer)


if __name__ == "__main__":
    main(run)

"""
What the aiortc scripts share (tests/e2e/support/aiortc.ts runs them): JSON
lines on stdout, a peer connection with no ICE servers (nothing leaves the
lab), frames counted as aiortc decodes them, a moving test pattern to send,
HTTP without a library, and a clean stop on SIGTERM or SIGINT.

Events, one JSON object a line:
  {"event": "frame", "n": N, "width": W, "height": H}  a video frame decoded
  {"event": "audio", "n": N}       every 50th audio frame decoded
  {"event": "sent", "n": N}        the pattern's 1st and every 30th frame sent
  {"event": "state", "state": S}   a peer connection's state (and "peer")
  {"event": "signal", "type": T}   a signaling message received (seed roles)
  {"event": "http", "method": M, "status": S}  a WHIP/WHEP request's answer
  {"event": "error", "message": M} anything that went wrong
  {"event": "exit"}                the script finished its clean stop
"""
import asyncio
import json
import signal
import sys
import traceback
import urllib.error
import urllib.request
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

import numpy
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceCandidate,
    RTCPeerConnection,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def peer_connection(peer: Optional[str] = None) -> RTCPeerConnection:
    """No ICE servers: host candidates only, on the lab's own network."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tag = {"peer": peer} if peer else {}

    @pc.on("connectionstatechange")
    def _state() -> None:
        emit("state", state=pc.connectionState, **tag)

    return pc


def consume(track: MediaStreamTrack) -> "asyncio.Task[None]":
    """Decodes `track` frame by frame (aiortc decodes in `recv`), counting."""

    async def run() -> None:
        frames = 0
        try:
            while True:
                frame = await track.recv()
                frames += 1
                if track.kind == "video":
                    emit("frame", n=frames, width=frame.width, height=frame.height)
                elif frames % 50 == 0:
                    emit("audio", n=frames)
        except MediaStreamError:
            emit("state", state=f"{track.kind} track ended")

    return asyncio.ensure_future(run())


def receive(pc: RTCPeerConnection) -> None:
    """Every track the peer sends is consumed (audio too, so nothing queues)."""

    @pc.on("track")
    def _track(track: MediaStreamTrack) -> None:
        emit("state", state=f"{track.kind} track")
        consume(track)


class PatternTrack(VideoStreamTrack):
    """A moving test pattern: a bright bar sweeping across, a band sweeping down."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.width, self.height, self.n = width, height, 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        w, h = self.width, self.height
        luma = numpy.full((h, w), 40, numpy.uint8)
        x = (self.n * 4) % w
        luma[:, x : x + 16] = 235
        y = (self.n * 2) % h
        luma[y : y + 8, :] = 160
        # U and V planes, a quarter of the picture each: grey.
        chroma = numpy.full((h // 2, w), 128, numpy.uint8)
        frame = VideoFrame.from_ndarray(numpy.vstack([luma, chroma]), format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        self.n += 1
        if self.n == 1 or self.n % 30 == 0:
            emit("sent", n=self.n)
        return frame


def candidate_from_json(value: Dict[str, Any]) -> Optional[RTCIceCandidate]:
    """A browser's `RTCIceCandidate.toJSON()`; None for end-of-candidates."""
    line = value.get("candidate") or ""
    if not line:
        return None
    candidate = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
    candidate.sdpMid = value.get("sdpMid")
    candidate.sdpMLineIndex = value.get("sdpMLineIndex")
    return candidate


async def http(
    method: str, url: str, body: Optional[str] = None, content_type: Optional[str] = None
) -> Tuple[int, Dict[str, str], str]:
    """One request (urllib, in a thread); any status comes back, none raises."""

    def run() -> Tuple[int, Dict[str, str], str]:
        request = urllib.request.Request(
            url, method=method, data=None if body is None else body.encode()
        )
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    status, headers, text = await asyncio.to_thread(run)
    emit("http", method=method, status=status, **({"body": text[:300]} if status >= 400 else {}))
    return status, {k.lower(): v for k, v in headers.items()}, text


def stop_signal() -> asyncio.Event:
    """Set on SIGTERM or SIGINT: the script ends cleanly (DELETE, leave-stream)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(
    ws: Any, handle: Callable[[Dict[str, Any]], Awaitable[None]], stop: asyncio.Event
) -> None:
    """Hands each signaling message to `handle` until `stop` is set; the
    socket closing first (or a handler failing) is an error."""

    async def read() -> None:
        async for raw in ws:
            await handle(json.loads(raw))

    reader = asyncio.ensure_future(read())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([reader, stopped], return_when=asyncio.FIRST_COMPLETED)
    if reader.done():
        reader.result()  # a failure in a handler ends the script, reported
        raise ConnectionError("the signaling server closed the socket")
    reader.cancel()


def main(run: Callable[..., Awaitable[None]]) -> None:
    """Runs `run(*argv)`; a failure is an `error` event and exit status 1."""
    try:
        asyncio.run(run(*sys.argv[1:]))
    except Exception as error:  # noqa: BLE001 (reported, then the exit says it)
        emit("error", message=f"{type(error).__name__}: {error}", trace=traceback.format_exc())
        sys.exit(1)
    emit("exit")

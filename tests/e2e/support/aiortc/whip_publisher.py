"""
aiortc as a WHIP publisher (RFC 9725): `whip_publisher.py WHIP_URL [--audio]`.
POSTs its offer (every candidate in it: aiortc gathers before
setLocalDescription returns) as application/sdp, applies the 201's answer,
sends a moving test pattern (and silence with --audio). SIGTERM: DELETE the
session's Location, then close.
"""
import urllib.parse

from aiortc import RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from common import PatternTrack, emit, http, main, peer_connection, stop_signal


async def run(url: str, *flags: str) -> None:
    stop = stop_signal()
    pc = peer_connection()
    pc.addTransceiver(PatternTrack(), direction="sendonly")
    if "--audio" in flags:
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    status, headers, answer = await http("POST", url, pc.localDescription.sdp, "application/sdp")
    if status != 201:
        raise RuntimeError(f"WHIP POST answered {status}: {answer[:300]}")
    location = urllib.parse.urljoin(url, headers["location"])
    emit("state", state="whip created", location=location)
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await stop.wait()
    await http("DELETE", location)
    await pc.close()


if __name__ == "__main__":
    main(run)

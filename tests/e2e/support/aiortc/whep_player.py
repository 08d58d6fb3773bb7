"""
aiortc as a WHEP player on a server offer: `whep_player.py WHEP_URL`. POSTs
no offer (an empty body, Content-Type application/sdp), applies the 201's
offer (Janus's, its candidates in it), answers with Janus's codec numbers
and PATCHes the answer (application/sdp) to the Location, expecting 204;
decodes what comes. SIGTERM: DELETE the Location, then close.
"""
import urllib.parse

from aiortc import RTCSessionDescription

from common import emit, http, main, peer_connection, receive, stop_signal


async def run(url: str) -> None:
    stop = stop_signal()
    status, headers, offer = await http("POST", url, "", "application/sdp")
    if status != 201:
        raise RuntimeError(f"WHEP POST answered {status}: {offer[:300]}")
    location = urllib.parse.urljoin(url, headers["location"])
    emit("state", state="whep created", location=location)
    pc = peer_connection()
    receive(pc)
    await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    status, _, text = await http("PATCH", location, pc.localDescription.sdp, "application/sdp")
    if status != 204:
        raise RuntimeError(f"WHEP PATCH (answer) answered {status}: {text[:300]}")
    await stop.wait()
    await http("DELETE", location)
    await pc.close()


if __name__ == "__main__":
    main(run)

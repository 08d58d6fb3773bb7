/** Realistic message bodies shared by the server tests. */
export const OFFER = {
  type: "offer" as const,
  sdp: "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
};
export const ANSWER = {
  type: "answer" as const,
  sdp: "v=0\r\no=- 88213 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
};
export function candidate(port: number) {
  return {
    candidate: `candidate:1 1 udp 2122260223 192.0.2.1 ${port} typ host`,
    sdpMid: "0",
    sdpMLineIndex: 0,
    usernameFragment: "abcd",
  };
}

/** A WHEP player's offer: one video section to receive. */
export const WHEP_OFFER = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=recvonly",
  "a=rtpmap:96 VP8/90000",
  "",
].join("\r\n");

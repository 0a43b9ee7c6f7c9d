"""Inflates permessage-deflate messages with zlib and exactly the agreed
window, to check that a sender kept within it (RFC 7692 section 7.1.2).

Reads JSON lines from stdin, one case each:
  {"name": N, "bits": 8..15, "takeover": bool, "msgs": [{"z": B64, "want": B64}]}
where z is a message's compressed payload (without the 00 00 ff ff tail)
and want what it must inflate to. Prints "N ok" or "N message I: ERROR"
per case.

zlib lets a back-reference reach into the window and into what the same
call has written, so the output is taken one byte per call: then a
reference farther back than 2^bits bytes fails with "invalid distance too
far back".
"""
import base64
import json
import sys

import zlib


def check(case):
    d = None
    for i, m in enumerate(case["msgs"]):
        if d is None or not case["takeover"]:
            d = zlib.decompressobj(wbits=-case["bits"])
        buf, out = base64.b64decode(m["z"]) + b"\x00\x00\xff\xff", bytearray()
        try:
            while True:
                got = d.decompress(buf, 1)
                buf = d.unconsumed_tail
                out += got
                if not got and not buf:
                    break
        except zlib.error as e:
            return "message %d: %s" % (i, e)
        want = base64.b64decode(m["want"])
        if bytes(out) != want:
            return "message %d: %d bytes inflated, not the %d sent" % (i, len(out), len(want))
    return "ok"


for line in sys.stdin:
    case = json.loads(line)
    print(case["name"], check(case), flush=True)

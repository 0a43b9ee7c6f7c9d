"""Python websockets (Debian's python3-websockets, run with /usr/bin/python3)
as a peer for wscope's end-to-end tests.

  peer.py server DEFLATE            serves on 127.0.0.1, prints "listening PORT"
                                    and runs until its stdin closes
  peer.py client URL DEFLATE M...   sends each message, waits for its echo,
                                    closes with 1000

DEFLATE is "default" (websockets' own permessage-deflate settings), "off",
or a JSON object of ServerPerMessageDeflateFactory's or
ClientPerMessageDeflateFactory's parameters.

Both print one line per event: "offer <Sec-WebSocket-Extensions of the
request>" and "answer <of the response>", "recv LEN SHA" (server) or
"echo LEN SHA" (client) per message (its UTF-8 length and the first 16 hex
digits of its SHA-256), "closed CODE". The server echoes every message but
these:

  fragments A B C    answers one message sent as the fragments A, B, C
  ping               pings, prints "pong" when the pong is back, answers "pinged"
  close CODE REASON  closes with CODE and REASON

Everything is bounded by a timeout: the script never outlives it.
"""
import asyncio
import hashlib
import json
import signal
import sys

import websockets
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

TIMEOUT = 20  # seconds for the whole run


def say(*words):
    print(*words, flush=True)


def digest(message):
    data = message.encode() if isinstance(message, str) else message
    return "%d %s" % (len(data), hashlib.sha256(data).hexdigest()[:16])


def deflate_options(spec, factory):
    """websockets.serve/connect keyword arguments for DEFLATE."""
    if spec == "default":
        return {}
    if spec == "off":
        return {"compression": None}
    return {"extensions": [factory(**json.loads(spec))]}


async def fragments(parts):
    for part in parts:
        yield part


async def serve_one(ws, path=None):
    say("offer", ws.request_headers.get("Sec-WebSocket-Extensions", ""))
    say("answer", ws.response_headers.get("Sec-WebSocket-Extensions", ""))
    try:
        async for message in ws:
            say("recv", digest(message))
            words = message.split(" ") if isinstance(message, str) else []
            if words[:1] == ["fragments"]:
                await ws.send(fragments(words[1:]))
            elif words == ["ping"]:
                waiter = await ws.ping(b"from python")
                await asyncio.wait_for(waiter, 5)
                say("pong")
                await ws.send("pinged")
            elif words[:1] == ["close"]:
                await ws.close(int(words[1]), " ".join(words[2:]))
            else:
                await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    say("closed", ws.close_code)


async def server(spec):
    loop = asyncio.get_running_loop()
    stdin_closed = asyncio.Event()

    def read_stdin():
        if not sys.stdin.buffer.raw.read(4096):
            loop.remove_reader(sys.stdin.fileno())
            stdin_closed.set()

    loop.add_reader(sys.stdin.fileno(), read_stdin)
    async with websockets.serve(serve_one, "127.0.0.1", 0, **deflate_options(spec, ServerPerMessageDeflateFactory)) as srv:
        say("listening", srv.sockets[0].getsockname()[1])
        await stdin_closed.wait()


async def client(url, spec, messages):
    async with websockets.connect(url, **deflate_options(spec, ClientPerMessageDeflateFactory)) as ws:
        say("offer", ws.request_headers.get("Sec-WebSocket-Extensions", ""))
        say("answer", ws.response_headers.get("Sec-WebSocket-Extensions", ""))
        for message in messages:
            await ws.send(message)
            say("echo", digest(await ws.recv()))
        await ws.close(1000, "done")
    say("closed", ws.close_code)
    return 0 if ws.close_code == 1000 else 1


def main(argv):
    signal.alarm(TIMEOUT + 5)  # the last resort, should asyncio itself hang
    if len(argv) == 2 and argv[0] == "server":
        run = server(argv[1])
    elif len(argv) >= 3 and argv[0] == "client":
        run = client(argv[1], argv[2], argv[3:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return asyncio.run(asyncio.wait_for(run, TIMEOUT)) or 0
    except asyncio.TimeoutError:
        print("peer.py: timed out", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

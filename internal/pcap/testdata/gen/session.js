// One scripted WebSocket session between a Node ws server and a Node ws
// client, for the capture fixtures of internal/pcap (see ../README.md).
//
//   node session.js MODE HOST PORT
//
// MODE is "deflate" (permessage-deflate with context takeover), "nocontext"
// (permessage-deflate with server_no_context_takeover and
// client_no_context_takeover) or "plain" (no compression, and a refused
// handshake first). The server echoes every data message; the client waits
// for each echo before it sends the next thing, so the capture is
// deterministic apart from ports, masks and times.
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const [mode, host, port] = process.argv.slice(2);
const deflate = mode !== 'plain';
const pmd = deflate
  ? {
      threshold: 0, // compress every message, however small
      serverNoContextTakeover: mode === 'nocontext',
      clientNoContextTakeover: mode === 'nocontext',
    }
  : false;

const server = http.createServer();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: pmd });
server.on('upgrade', (req, socket, head) => {
  if (req.url === '/deny') {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbidden');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});

function connect(path) {
  return new WebSocket(`ws://${host.includes(':') ? `[${host}]` : host}:${port}${path}`, {
    perMessageDeflate: deflate ? { threshold: 0 } : false,
    headers: { 'X-Fixture': mode },
  });
}

function refused() {
  return new Promise((resolve) => {
    const ws = connect('/deny');
    ws.on('unexpected-response', (req, res) => {
      res.resume();
      res.on('end', resolve);
    });
    ws.on('error', resolve);
  });
}

async function session() {
  const ws = connect('/chat?room=1');
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const echo = () => new Promise((resolve) => ws.once('message', resolve));
  const send = async (data, opts) => {
    const got = echo();
    ws.send(data, opts);
    await got;
  };

  const hello = 'Hello, WebSocket! Hello, WebSocket! Hello, WebSocket!';
  await send(hello);
  await send(hello); // with context takeover: mostly a back-reference
  await send(Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256)), { binary: true });
  if (deflate) {
    await send('sent without compression', { compress: false });
  }
  {
    // One text message in three frames: FIN clear, continuation, FIN set.
    const got = echo();
    ws.send('frag-one ', { fin: false });
    ws.send('frag-two ', { fin: false });
    ws.send('frag-three', { fin: true });
    await got;
  }
  await new Promise((resolve) => {
    ws.once('pong', resolve);
    ws.ping('ping-1');
  });
  // About 10 KB of JSON with pseudo-random tokens: even compressed it spans
  // several TCP segments.
  let x = 1;
  const token = () => {
    let s = '';
    for (let k = 0; k < 4; k++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      s += x.toString(16).padStart(8, '0');
    }
    return s;
  };
  const items = Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item-${i}`, token: token() }));
  await send(JSON.stringify(items));
  await send('héllo wörld ✓ 😀');
  await new Promise((resolve) => {
    ws.once('close', resolve);
    // The plain session ends cleanly (1000); the others with an
    // application code, which is not a clean end.
    if (mode === 'plain') {
      ws.close(1000, 'done');
    } else {
      ws.close(4000, 'bye');
    }
  });
}

server.listen(Number(port), host, async () => {
  try {
    if (mode === 'plain') {
      await refused();
    }
    await session();
  } finally {
    // Let the server finish its side of the TCP close before exiting.
    setTimeout(() => server.close(() => process.exit(0)), 200);
  }
});

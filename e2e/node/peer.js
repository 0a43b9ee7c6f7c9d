// Node's ws as a peer for wscope's end-to-end tests, with
// permessage-deflate on for every message (threshold 0) and context
// takeover both ways, as browsers negotiate it.
//
//   node peer.js server          echo server on 127.0.0.1, prints "listening PORT";
//                                on a path /fragments/N it echoes each message in N frames;
//                                for each client "request TARGET key=X-API-KEY protocol=CHOSEN"
//                                (ws chooses the first subprotocol offered)
//   node peer.js client URL M... sends each message, waits for its echo, closes 1000
//   node peer.js close-empty URL  opens, then closes with an empty close frame (ws.close())
//
// A wss client trusts the CA in $PEER_CA and presents the certificate in
// $PEER_CERT with the key in $PEER_KEY, when set (mutual TLS).
'use strict';
const { WebSocket, WebSocketServer } = require('ws');

const fs = require('fs');

const deflate = { threshold: 0 };
const clientOptions = { perMessageDeflate: deflate };
for (const [opt, env] of [['ca', 'PEER_CA'], ['cert', 'PEER_CERT'], ['key', 'PEER_KEY']]) {
  if (process.env[env]) clientOptions[opt] = fs.readFileSync(process.env[env]);
}
const [mode, url, ...msgs] = process.argv.slice(2);
setTimeout(() => { console.error('peer.js: timed out'); process.exit(2); }, 30000).unref();

if (mode === 'server') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
  wss.on('listening', () => console.log(`listening ${wss.address().port}`));
  wss.on('connection', (ws, req) => {
    console.log(`extensions ${req.headers['sec-websocket-extensions'] || ''}`);
    // What arrived, for the redaction tests: the recording must not have it.
    console.log(`request ${req.url} key=${req.headers['x-api-key'] || ''} protocol=${ws.protocol}`);
    const frag = /^\/fragments\/(\d+)$/.exec(req.url);
    const parts = frag ? Number(frag[1]) : 1;
    ws.on('message', (data, isBinary) => {
      // Cut anywhere, even inside a UTF-8 sequence: only the whole message
      // must be valid (RFC 6455 5.6).
      const size = Math.ceil(data.length / parts);
      for (let i = 0; i < parts; i++) {
        ws.send(data.subarray(i * size, (i + 1) * size), { binary: isBinary, fin: i === parts - 1 });
      }
    });
    ws.on('close', (code, reason) => {
      console.log(`closed ${code}`);
      if (reason.length) console.log(`close reason ${reason}`);
    });
    ws.on('error', (err) => console.log(`error ${err.message}`)); // a peer's protocol error: ws closes with 1002
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
} else if (mode === 'client') {
  const ws = new WebSocket(url, clientOptions);
  let i = 0;
  const next = () => {
    if (i < msgs.length) {
      ws.send(msgs[i++]);
    } else {
      ws.close(1000, 'done');
    }
  };
  ws.on('upgrade', (res) => console.log(`extensions ${res.headers['sec-websocket-extensions'] || ''}`));
  ws.on('open', next);
  ws.on('message', (data) => { console.log(`echo ${data}`); next(); });
  ws.on('close', (code) => { console.log(`closed ${code}`); process.exit(code === 1000 ? 0 : 1); });
  ws.on('error', (err) => { console.error(`peer.js: ${err.message}`); process.exit(1); });
} else if (mode === 'close-empty') {
  const ws = new WebSocket(url, { perMessageDeflate: deflate });
  ws.on('open', () => ws.close());
  ws.on('close', (code) => { console.log(`closed ${code}`); process.exit(0); });
  ws.on('error', (err) => { console.error(`peer.js: ${err.message}`); process.exit(1); });
} else {
  console.error('usage: node peer.js server | client URL [message...] | close-empty URL');
  process.exit(2);
}

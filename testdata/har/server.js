// The page server and two WebSocket endpoints on one loopback port:
//
//   GET /         page.html
//   /socket       a WebSocket echo server (the ws package): it picks the
//                 subprotocol chat.v1, accepts permessage-deflate, greets
//                 the client with a text message and a ping, then echoes
//                 every message back with its type
//   /bad          a hand-made handshake, one text message, then a frame with
//                 the reserved opcode 3, which the browser must fail the
//                 connection on (Chrome reports it as a WebSocket error)
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { WebSocketServer } = require('ws');

function accept(key) {
  return crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

function badSocket(req, socket) {
  socket.on('error', () => {});
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept(req.headers['sec-websocket-key'])}\r\n\r\n`);
  const text = Buffer.from('about to break');
  socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
  // FIN + opcode 3 (reserved), unmasked, 2 bytes.
  setTimeout(() => socket.end(Buffer.from([0x83, 0x02, 0x68, 0x69])), 20);
}

function start(host = '127.0.0.1', port = 0) {
  const page = fs.readFileSync(path.join(__dirname, 'page.html'));
  const server = http.createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(page);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: true,
    handleProtocols: (protocols) => (protocols.has('chat.v1') ? 'chat.v1' : false),
  });
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ op: 'hello', server: 'ws echo' }));
    ws.ping('are you there?');
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (pathname === '/socket') {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } else if (pathname === '/bad') {
      badSocket(req, socket);
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve({ server, wss, port: server.address().port })));
}

module.exports = { start };

if (require.main === module) {
  start('127.0.0.1', Number(process.argv[2] || 0)).then(({ port }) => console.log(`http://127.0.0.1:${port}/`));
}

// Application protocol peers for wscope's decoder tests (e2e/appproto_test.go):
// each protocol's real npm library, as server or client, doing one short
// exchange that touches what the decoders read.
//
//   node apps.js server NAME       prints "listening PORT", serves until stdin closes
//   node apps.js client NAME URL   runs the exchange against URL, prints "done", exits 0
//
// Where the protocol's library has no server for Node (STOMP, SignalR,
// Phoenix, Action Cable), the server is scripted here with ws, answering as
// the protocol's specification says; the client is always the real library.
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket, createWebSocketStream } = require('ws');

const [, , role, name, url] = process.argv;
// A client has 8 s for its exchange; a server lives as long as the test
// holds its stdin open, a minute at most.
setTimeout(() => { console.error(`${role} ${name}: timed out`); process.exit(1); }, role === 'client' ? 8000 : 60000).unref();

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// wsServer starts a ws server on an http server, choosing the subprotocol
// from the client's offer with pick (default: the first).
async function wsServer(onConnection, pick) {
  const hs = http.createServer();
  const wss = new WebSocketServer({ server: hs, handleProtocols: pick || ((ps) => ps.values().next().value || false) });
  wss.on('connection', onConnection);
  return listen(hs);
}

const servers = {
  async socketio() {
    const { Server } = require('socket.io');
    const hs = http.createServer();
    // Pings every 300 ms: a client that does not answer is dropped after
    // 600 ms more (Engine.IO v4), well within a test.
    const io = new Server(hs, { pingInterval: 300, pingTimeout: 600 });
    io.on('connection', (s) => {
      s.on('chat', (msg, ack) => (ack ? ack({ ok: true, echo: msg.text }) : s.emit('echo', msg)));
      s.on('upload', (buf, ack) => ack(buf.length));
      s.emit('welcome', 'hi');
    });
    io.of('/admin').on('connection', (s) => s.emit('status', 'up'));
    return listen(hs);
  },

  // A server that hands each connection a token it made (Engine.IO's and
  // Socket.IO's session ids are its own too) and answers "auth" with
  // whether the client sent back all three: e2e/replay_test.go captures
  // them from decoded fields.
  async 'socketio-token'() {
    const { Server } = require('socket.io');
    const crypto = require('crypto');
    const hs = http.createServer();
    const io = new Server(hs);
    io.on('connection', (s) => {
      const token = crypto.randomBytes(8).toString('hex');
      s.on('auth', (a) => s.emit('auth', a && a.token === token && a.sid === s.id && a.eio === s.conn.id ? 'ok' : 'refused'));
      s.emit('hello', { token });
    });
    return listen(hs);
  },

  async graphql() { return graphqlServer(false); },
  async 'graphql-legacy'() { return graphqlServer(true); },

  async mqtt() {
    const { Aedes } = require('aedes');
    const broker = await Aedes.createBroker();
    return wsServer((ws) => broker.handle(createWebSocketStream(ws)));
  },
  // aedes speaks MQTT 3.1.1 only: MQTT 5.0 gets a small broker scripted
  // with mqtt-packet (mqtt.js's own codec), one client, QoS 0-2 both ways.
  async mqtt5() {
    const mp = require('mqtt-packet');
    return wsServer((ws) => {
      const parser = mp.parser({ protocolVersion: 5 });
      const send = (p) => ws.send(mp.generate(p, { protocolVersion: 5 }));
      const subs = [];
      let nextId = 100;
      parser.on('packet', (p) => {
        switch (p.cmd) {
          case 'connect': send({ cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { topicAliasMaximum: 10, receiveMaximum: 20 } }); break;
          case 'subscribe': subs.push(...p.subscriptions); send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((s) => s.qos) }); break;
          case 'unsubscribe': send({ cmd: 'unsuback', messageId: p.messageId, granted: p.unsubscriptions.map(() => 0) }); break;
          case 'publish':
            if (p.qos === 1) send({ cmd: 'puback', messageId: p.messageId, reasonCode: 0 });
            if (p.qos === 2) send({ cmd: 'pubrec', messageId: p.messageId, reasonCode: 0 });
            if (subs.length) send({ cmd: 'publish', topic: p.topic, payload: p.payload, qos: p.qos, messageId: p.qos ? nextId++ : undefined, retain: false, dup: false, properties: { userProperties: { from: 'broker' } } });
            break;
          case 'pubrel': send({ cmd: 'pubcomp', messageId: p.messageId, reasonCode: 0 }); break;
          case 'pubrec': send({ cmd: 'pubrel', messageId: p.messageId, reasonCode: 0 }); break;
          case 'pingreq': send({ cmd: 'pingresp' }); break;
          case 'disconnect': ws.close(); break;
        }
      });
      ws.on('message', (data) => parser.parse(data));
    });
  },

  // A small STOMP 1.2 broker: CONNECTED, subscriptions, MESSAGE for each
  // SEND, RECEIPT for each receipt header.
  async stomp() {
    return wsServer((ws) => {
      const subs = [];
      let n = 0;
      ws.on('message', (data) => {
        for (const f of String(data).split('\0')) {
          const text = f.replace(/^[\r\n]+/, '');
          if (!text) continue;
          const [head, ...rest] = text.split('\n\n');
          const [cmd, ...lines] = head.split('\n');
          const h = {};
          for (const l of lines) { const i = l.indexOf(':'); if (!(l.slice(0, i) in h)) h[l.slice(0, i)] = l.slice(i + 1); }
          const body = rest.join('\n\n');
          if (cmd === 'CONNECT' || cmd === 'STOMP') ws.send('CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');
          if (cmd === 'SUBSCRIBE') subs.push(h);
          if (cmd === 'SEND') {
            for (const s of subs) if (s.destination === h.destination) ws.send(`MESSAGE\nsubscription:${s.id}\nmessage-id:${++n}\ndestination:${h.destination}\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\0`);
          }
          if (h.receipt) ws.send(`RECEIPT\nreceipt-id:${h.receipt}\n\n\0`);
        }
      });
    }, (ps) => (ps.has('v12.stomp') ? 'v12.stomp' : false));
  },

  async jsonrpc() {
    const { Server } = require('rpc-websockets');
    const s = new Server({ port: 0, host: '127.0.0.1' });
    s.register('sum', (params) => params.reduce((a, b) => a + b, 0));
    s.register('fail', () => { throw new Error('no'); });
    s.event('tick');
    return new Promise((resolve) => s.wss.on('listening', () => resolve(s.wss.address().port)));
  },

  // A SignalR hub, scripted: the JSON hub protocol's handshake, Send
  // answered with a completion and a broadcast, Counter streamed.
  async signalr() {
    const RS = '\x1e';
    return wsServer((ws) => {
      let handshake = false;
      ws.on('message', (data) => {
        for (const rec of String(data).split(RS)) {
          if (!rec) continue;
          const m = JSON.parse(rec);
          if (!handshake) { handshake = true; ws.send('{}' + RS); continue; }
          if (m.type === 1 && m.target === 'Send') {
            ws.send(JSON.stringify({ type: 1, target: 'ReceiveMessage', arguments: m.arguments }) + RS);
            if (m.invocationId) ws.send(JSON.stringify({ type: 3, invocationId: m.invocationId, result: m.arguments.length }) + RS);
          }
          if (m.type === 4) {
            ws.send([1, 2, 3].map((i) => JSON.stringify({ type: 2, invocationId: m.invocationId, item: i }) + RS).join(''));
            ws.send(JSON.stringify({ type: 3, invocationId: m.invocationId }) + RS);
          }
        }
      });
    });
  },

  // A Phoenix endpoint, scripted: replies ok to joins, heartbeats and
  // pushes, and broadcasts each new_msg back.
  async phoenix() {
    return wsServer((ws) => {
      ws.on('message', (data) => {
        const [joinRef, ref, topic, event, payload] = JSON.parse(String(data));
        ws.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response: event === 'phx_join' ? { joined: true } : {} }]));
        if (event === 'new_msg') ws.send(JSON.stringify([joinRef, null, topic, 'new_msg', payload]));
      });
    });
  },

  // An Action Cable server, scripted: welcome, confirm_subscription, and
  // each performed action broadcast back on its channel.
  async actioncable() {
    return wsServer((ws) => {
      ws.send(JSON.stringify({ type: 'welcome' }));
      ws.send(JSON.stringify({ type: 'ping', message: Math.floor(Date.now() / 1000) }));
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        if (m.command === 'subscribe') ws.send(JSON.stringify({ identifier: m.identifier, type: 'confirm_subscription' }));
        if (m.command === 'message') ws.send(JSON.stringify({ identifier: m.identifier, message: JSON.parse(m.data) }));
      });
    }, (ps) => (ps.has('actioncable-v1-json') ? 'actioncable-v1-json' : false));
  },
};

async function graphqlServer(legacy) {
  const { buildSchema, execute, subscribe } = require('graphql');
  const schema = buildSchema('type Query { hello: String } type Subscription { count(to: Int!): Int }');
  const roots = {
    query: { hello: () => 'world' },
    subscription: {
      count: async function* ({ to }) { for (let i = 1; i <= to; i++) yield { count: i }; },
    },
  };
  const hs = http.createServer();
  if (legacy) {
    const { SubscriptionServer } = require('subscriptions-transport-ws');
    SubscriptionServer.create({ schema, execute, subscribe, rootValue: roots.subscription, onOperation: (msg, params) => ({ ...params, rootValue: msg.payload.query.includes('subscription') ? roots.subscription : roots.query }) }, { server: hs, path: '/graphql' });
  } else {
    const { useServer } = require('graphql-ws/use/ws');
    const wss = new WebSocketServer({ server: hs, path: '/graphql' });
    useServer({ schema, roots }, wss);
  }
  return listen(hs);
}

const clients = {
  async socketio(u) {
    const { io } = require('socket.io-client');
    const s = io(u, { transports: ['websocket'] });
    await new Promise((r) => s.once('welcome', r));
    const reply = await s.timeout(3000).emitWithAck('chat', { text: 'hi' });
    if (reply.echo !== 'hi') throw new Error('chat ack: ' + JSON.stringify(reply));
    const n = await s.timeout(3000).emitWithAck('upload', Buffer.from('binary!'));
    if (n !== 7) throw new Error('upload ack: ' + n);
    const admin = io(u + '/admin', { transports: ['websocket'], forceNew: false });
    await new Promise((r) => admin.once('status', r));
    s.disconnect();
  },

  async graphql(u) {
    const { createClient } = require('graphql-ws');
    const c = createClient({ url: u + '/graphql', webSocketImpl: WebSocket, lazyCloseTimeout: 2000 }); // one connection for both operations
    const got = [];
    await new Promise((resolve, reject) => c.subscribe({ query: 'subscription Count($to: Int!) { count(to: $to) }', variables: { to: 3 } },
      { next: (v) => got.push(v.data.count), error: reject, complete: resolve }));
    const hello = await new Promise((resolve, reject) => { let v; c.subscribe({ query: 'query Hello { hello }' }, { next: (x) => (v = x), error: reject, complete: () => resolve(v) }); });
    if (got.join() !== '1,2,3' || hello.data.hello !== 'world') throw new Error('graphql: ' + got + ' ' + JSON.stringify(hello));
    await c.dispose();
  },

  async 'graphql-legacy'(u) {
    const { SubscriptionClient } = require('subscriptions-transport-ws');
    const c = new SubscriptionClient(u + '/graphql', { reconnect: false }, WebSocket);
    const got = [];
    await new Promise((resolve, reject) => {
      c.request({ query: 'subscription Count { count(to: 2) }' }).subscribe({ next: (v) => got.push(v.data.count), error: reject, complete: resolve });
    });
    if (got.join() !== '1,2') throw new Error('legacy graphql: ' + got);
    c.close();
  },

  async mqtt(u, version = 4) {
    const mqtt = require('mqtt');
    const c = await mqtt.connectAsync(u + '/mqtt', { protocolVersion: version, clientId: 'wscope-test', reconnectPeriod: 0 });
    await c.subscribeAsync('sensors/#', { qos: 2 });
    const got = new Promise((resolve) => { let n = 0; c.on('message', () => { if (++n === 3) resolve(); }); });
    await c.publishAsync('sensors/0', 'q0', { qos: 0 });
    await c.publishAsync('sensors/1', '23', { qos: 1 });
    await c.publishAsync('sensors/2', Buffer.from([1, 2, 3]), { qos: 2, retain: false });
    await got;
    await c.unsubscribeAsync('sensors/#');
    await c.endAsync();
  },
  async mqtt5(u) { return clients.mqtt(u, 5); },

  async stomp(u) {
    const { Client } = require('@stomp/stompjs');
    await new Promise((resolve, reject) => {
      const c = new Client({
        webSocketFactory: () => new WebSocket(u + '/ws', ['v12.stomp']),
        reconnectDelay: 0, heartbeatIncoming: 0, heartbeatOutgoing: 0,
        onStompError: (f) => reject(new Error(f.body)),
      });
      c.onConnect = () => {
        c.subscribe('/queue/a', (m) => { if (m.body === 'hello queue a') { c.deactivate().then(resolve); } });
        c.watchForReceipt('77', () => {});
        c.publish({ destination: '/queue/a', body: 'hello queue a', headers: { receipt: '77' } });
      };
      c.activate();
    });
  },

  async jsonrpc(u) {
    const { Client } = require('rpc-websockets');
    const c = new Client(u, { autoconnect: true, reconnect: false });
    await new Promise((r) => c.once('open', r));
    const sum = await c.call('sum', [1, 2, 4]);
    if (sum !== 7) throw new Error('sum ' + sum);
    await c.call('fail', []).then(() => { throw new Error('fail succeeded'); }, () => {});
    c.notify('hello', ['world']);
    await new Promise((r) => setTimeout(r, 50));
    c.close();
  },

  async signalr(u) {
    const signalR = require('@microsoft/signalr');
    const conn = new signalR.HubConnectionBuilder()
      .withUrl(u.replace(/^ws/, 'http') + '/chathub', { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets, WebSocket })
      .configureLogging(signalR.LogLevel.None).build();
    const got = new Promise((r) => conn.on('ReceiveMessage', r));
    await conn.start();
    const n = await conn.invoke('Send', 'ann', 'hello');
    await got;
    const items = [];
    await new Promise((resolve, reject) => conn.stream('Counter', 3).subscribe({ next: (i) => items.push(i), complete: resolve, error: reject }));
    if (n !== 2 || items.join() !== '1,2,3') throw new Error('signalr: ' + n + ' ' + items);
    await conn.stop();
  },

  async phoenix(u) {
    const { Socket } = require('phoenix');
    const socket = new Socket(u + '/socket', { transport: WebSocket, params: { token: 't' }, heartbeatIntervalMs: 100000 });
    socket.connect();
    const ch = socket.channel('room:lobby', { nick: 'ann' });
    await new Promise((resolve, reject) => ch.join().receive('ok', resolve).receive('error', reject));
    const got = new Promise((r) => ch.on('new_msg', r));
    await new Promise((resolve, reject) => ch.push('new_msg', { body: 'hi' }).receive('ok', resolve).receive('error', reject));
    await got;
    await new Promise((r) => socket.disconnect(r));
  },

  async actioncable(u) {
    global.WebSocket = WebSocket; // what the client looks for (adapters.WebSocket)
    global.document = global.document || { visibilityState: 'visible', addEventListener() {}, removeEventListener() {} };
    global.window = global.window || global;
    global.window.addEventListener = global.window.addEventListener || (() => {});
    global.window.removeEventListener = global.window.removeEventListener || (() => {});
    const { createConsumer } = require('@rails/actioncable');
    const consumer = createConsumer(u + '/cable');
    await new Promise((resolve, reject) => {
      const sub = consumer.subscriptions.create({ channel: 'ChatChannel', room: '1' }, {
        connected() { sub.perform('speak', { text: 'hi' }); },
        rejected() { reject(new Error('rejected')); },
        received(data) { if (data.action === 'speak' && data.text === 'hi') resolve(); },
      });
    });
    consumer.disconnect();
  },
};

async function main() {
  if (role === 'server') {
    const port = await servers[name]();
    console.log(`listening ${port}`);
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
    return;
  }
  await clients[name](url);
  console.log('done');
  setTimeout(() => process.exit(0), 100); // let the close go out
}
main().catch((e) => { console.error(`${role} ${name}: ${e && (e.stack || e.reason || JSON.stringify(e)) || e}`); process.exit(1); });

#!/usr/bin/env node
// make-capturer-har.js: records the same session as make-har.js (page.html
// against server.js) with chrome-har-capturer, a HAR tool of its own that
// drives Chromium over the DevTools protocol and writes the HAR itself:
// its CLI loads the page in headless Chromium, waits for the load event and
// a grace period, and writes the HAR.
//
// Nothing of the HAR is written by this script: the file is
// chrome-har-capturer's.
//
// Usage: node make-capturer-har.js OUT.har [CHROMIUM]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { launch } = require('./chromium.js');
const { start } = require('./server.js');

async function main() {
  const out = path.resolve(process.argv[2] || 'capturer-session.har');
  const bin = process.argv[3] || '/usr/bin/chromium';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wscope-har-'));
  const srv = await start('127.0.0.1', 0);
  const { proc, port } = await launch(bin, path.join(tmp, 'profile'));
  try {
    const cli = require.resolve('chrome-har-capturer/bin/cli.js');
    // --grace: the page is done with both WebSockets within a few hundred
    // milliseconds of its load event.
    const args = [cli, '--host', '127.0.0.1', '--port', String(port), '--grace', '2000', '--output', out,
      `http://127.0.0.1:${srv.port}/`];
    await new Promise((resolve, reject) => {
      execFile(process.execPath, args, { timeout: 60000 }, (err, stdout, stderr) => {
        process.stderr.write(stderr);
        if (err) reject(err); else resolve();
      });
    });
    const har = JSON.parse(fs.readFileSync(out, 'utf8'));
    const ws = har.log.entries.filter((e) => e._resourceType === 'websocket');
    const counts = ws.map((e) => e._webSocketMessages.length);
    // /socket: 7 sent, 8 received; /bad: 1 received (chrome-har-capturer
    // does not record WebSocket errors).
    if (JSON.stringify(counts) !== '[15,1]') throw new Error(`messages per WebSocket: ${counts}, want 15,1`);
    console.log(`${out}: ${fs.statSync(out).size} bytes, written by ${har.log.creator.name} ${har.log.creator.version}`);
  } finally {
    proc.kill();
    srv.wss.close();
    srv.server.close();
    await new Promise((r) => setTimeout(r, 200));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});

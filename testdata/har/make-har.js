#!/usr/bin/env node
// make-har.js: records a real Chromium session and exports it with
// Chrome DevTools' own "Export HAR" command.
//
// 1. server.js serves page.html, a WebSocket echo server (/socket) and a
//    WebSocket that breaks the protocol (/bad) on one 127.0.0.1 port.
// 2. Headless Chromium is started with remote debugging on a free port.
// 3. A second tab loads the DevTools front-end that ships inside Chromium,
//    as Chromium's own debugging server serves it for remote debugging
//    (http://127.0.0.1:PORT/devtools/devtools_app.html?ws=...), attached
//    to the first tab, and shows its Network panel. (Loaded from
//    devtools://devtools/bundled/ instead, the front-end saves files
//    through the browser's Save As dialog, which headless Chromium cannot
//    show; served over HTTP it saves them as a download.)
// 4. The first tab loads the page, which talks to the echo server, closes
//    that WebSocket with 4000 "done", then opens /bad, which fails.
// 5. The Network panel's "Export HAR (sanitized)…" toolbar button is
//    clicked; DevTools writes the file through its usual download path,
//    which is caught with Browser.setDownloadBehavior.
//
// Nothing of the HAR is written by this script: the file is Chrome's.
//
// Usage: node make-har.js OUT.har [CHROMIUM]   (CHROMIUM: /usr/bin/chromium)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const CDP = require('chrome-remote-interface');
const { launch } = require('./chromium.js');
const { start } = require('./server.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What page.html ends with, and the number of messages DevTools must have
// seen on each WebSocket: /socket 7 sent and 8 received (the greeting and
// the 7 echoes); /bad 1 received and the error.
const WANT_TITLE = 'done: 4000 done, 1006';
const WANT_FRAMES = [15, 2];

async function until(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// evaluate runs an async expression in the DevTools front-end and returns
// its value.
async function evaluate(client, expr) {
  const r = await client.Runtime.evaluate({ expression: `(async () => { ${expr} })()`, awaitPromise: true, returnByValue: true });
  if (r.exceptionDetails) {
    throw new Error(`DevTools: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
  }
  return r.result.value;
}

// exportButton finds the Network panel's "Export HAR (sanitized)…" button
// (jslog context export-har) in the DevTools document and its shadow roots.
const exportButton = `const exportButton = () => {
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'BUTTON' && /context: export-har(;|$)/.test(el.getAttribute('jslog') || '')) return el;
      const inner = el.shadowRoot && walk(el.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  return walk(document);
};`;

async function main() {
  const out = path.resolve(process.argv[2] || 'chrome-session.har');
  const bin = process.argv[3] || '/usr/bin/chromium';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wscope-har-'));
  const downloads = path.join(tmp, 'downloads');
  fs.mkdirSync(downloads);
  const srv = await start('127.0.0.1', 0);
  const { proc, port } = await launch(bin, path.join(tmp, 'profile'));
  const clients = [];
  try {
    const version = await CDP.Version({ port });
    const browser = await CDP({ port, target: version.webSocketDebuggerUrl });
    clients.push(browser);
    await browser.Browser.setDownloadBehavior({ behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
    const downloaded = new Promise((resolve, reject) => {
      browser.Browser.downloadProgress((e) => {
        if (e.state === 'completed') resolve(e);
        if (e.state === 'canceled') reject(new Error('HAR download canceled'));
      });
    });

    // The inspected tab and the DevTools front-end attached to it.
    const page = await CDP.New({ port, url: 'about:blank' });
    const dtTarget = await CDP.New({ port, url: 'about:blank' });
    const dt = await CDP({ port, target: dtTarget.id });
    clients.push(dt);
    await dt.Page.enable();
    await dt.Page.navigate({ url: `http://127.0.0.1:${port}/devtools/devtools_app.html?ws=127.0.0.1:${port}/devtools/page/${page.id}` });
    await until('DevTools to attach', () => evaluate(dt, `
      const SDK = await import('./core/sdk/sdk.js');
      return SDK.TargetManager.TargetManager.instance().targets().length > 0;`).catch(() => false));
    await evaluate(dt, `
      const UI = await import('./ui/legacy/legacy.js');
      await UI.ViewManager.ViewManager.instance().showView('network');`);
    await until('the Export HAR button', () => evaluate(dt, `${exportButton} return !!exportButton();`));

    // The session.
    const tab = await CDP({ port, target: page.id });
    clients.push(tab);
    await tab.Page.enable();
    await tab.Page.navigate({ url: `http://127.0.0.1:${srv.port}/` });
    const title = await until('the page to close its WebSocket', async () => {
      const r = await tab.Runtime.evaluate({ expression: 'document.title', returnByValue: true });
      return r.result.value.startsWith('done:') && r.result.value;
    });
    if (title !== WANT_TITLE) throw new Error(`page: ${title}, want ${WANT_TITLE}`);
    // Network.webSocketClosed has reached DevTools when the request is
    // finished.
    await until('DevTools to see the whole session', () => evaluate(dt, `
      const Logs = await import('./models/logs/logs.js');
      const ws = Logs.NetworkLog.NetworkLog.instance().requests().filter(r => r.resourceType().name() === 'websocket');
      return JSON.stringify(ws.map(r => r.finished && r.frames().length)) === '${JSON.stringify(WANT_FRAMES)}';`));

    // Network panel > Export HAR (sanitized)…: the toolbar's download button.
    await evaluate(dt, `${exportButton} exportButton().click();`);
    let timer;
    const done = await Promise.race([downloaded, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('no HAR download within 20 s')), 20000);
    })]).finally(() => clearTimeout(timer));
    const files = fs.readdirSync(downloads);
    if (files.length !== 1) throw new Error(`downloads: ${files}`);
    fs.copyFileSync(path.join(downloads, files[0]), out);

    const info = await browser.Browser.getVersion();
    console.log(`${out}: ${done.receivedBytes} bytes, exported by DevTools as ${files[0]}`);
    console.log(`${info.product} (protocol ${info.protocolVersion}, revision ${info.revision}, V8 ${info.jsVersion})`);
    console.log(`User-Agent: ${info.userAgent}`);
  } finally {
    for (const c of clients.reverse()) await c.close().catch(() => {});
    proc.kill();
    srv.wss.close();
    srv.server.close();
    await sleep(200);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});

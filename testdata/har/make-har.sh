#!/bin/sh
# make-har.sh: regenerates the HAR fixtures of this folder from real
# headless Chromium sessions (see README.md):
#   chrome-session.har    exported by the DevTools Network panel's
#                         "Export HAR" button (make-har.js)
#   capturer-session.har  written by chrome-har-capturer
#                         (make-capturer-har.js)
# Needs Debian's chromium (apt-get install chromium) and node with npm; the
# npm packages are the ones pinned in package-lock.json.
set -eu
cd "$(dirname "$0")"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if ! [ -x "$CHROMIUM" ]; then
	echo "make-har.sh: no $CHROMIUM (apt-get install chromium, or set CHROMIUM)" >&2
	exit 1
fi
npm ci --no-audit --no-fund >/dev/null
"$CHROMIUM" --version 2>/dev/null | grep -v '^\[' || true
v() { node -p "require('$1/package.json').version"; }
echo "node $(node --version), npm $(npm --version), chrome-remote-interface $(v chrome-remote-interface), ws $(v ws), chrome-har-capturer $(v chrome-har-capturer)"
node make-har.js chrome-session.har "$CHROMIUM"
node make-capturer-har.js capturer-session.har "$CHROMIUM"

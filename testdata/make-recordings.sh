#!/usr/bin/env bash
# Regenerates the recordings in this folder with the wscope binary itself:
# `listen --echo` records the server side, `connect` the client side.
set -euo pipefail
cd "$(dirname "$0")"
go build -o /tmp/wscope-fixtures ..
bin=/tmp/wscope-fixtures
port=${PORT:-18765}

$bin listen 127.0.0.1:$port --echo --once --force --record listen-echo.wsrec.jsonl >/dev/null 2>&1 &
sleep 0.5
$bin connect ws://127.0.0.1:$port/chat?room=1 -s chat.v1 --origin http://localhost \
  --stdin json --force --record connect-echo.wsrec.jsonl -w 300ms >/dev/null <<'IN'
{"text":"hello"}
{"text":"{\"op\":\"subscribe\",\"channel\":\"ticker\",\"id\":1}"}
{"hex":"00 01 02 03 fe ff"}
{"op":"ping","text":"rtt-1"}
{"text":"split across frames","fragment":5}
{"text":""}
IN
wait

# A client that breaks the rules, as the server saw it.
$bin listen 127.0.0.1:$port --once --force --record violations.wsrec.jsonl >/dev/null 2>&1 &
sleep 0.5
$bin connect ws://127.0.0.1:$port/ --stdin json -w 300ms >/dev/null <<'IN' || true
{"text":"unmasked","mask":"none"}
{"text":"rsv2 set","rsv2":true}
{"op":"0x3","fin":true,"text":"reserved opcode"}
{"text":"5 bytes in 16 bits","len_enc":16}
{"op":"ping","fin":false,"text":"fragmented ping"}
{"op":"cont","fin":true,"text":"orphan"}
{"op":"close","fin":true,"hex":"03 ed"}
IN
wait
rm -f $bin

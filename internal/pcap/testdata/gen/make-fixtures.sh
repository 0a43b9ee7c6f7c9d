#!/bin/sh
# Regenerates the capture fixtures of internal/pcap (see ../README.md).
# Needs root (for a private network namespace), node, npm, ethtool and dumpcap
# (Debian: apt-get install tshark). Run from anywhere.
set -eu
cd "$(dirname "$0")"
npm install --no-audit --no-fund --silent
unshare -n sh ./capture.sh
# A nanosecond classic pcap of the same plain session.
editcap -F nsecpcap ../plain.pcap ../plain-nsec.pcap
# What tshark finds in each, for the tests to compare with.
for f in ../*.pcap ../*.pcapng; do
	tshark -r "$f" -Y websocket -T json \
		-e frame.number -e tcp.stream -e websocket.fin -e websocket.rsv \
		-e websocket.opcode -e websocket.mask -e websocket.masking_key \
		-e websocket.payload_length -e websocket.payload_length_ext_16 \
		-e websocket.payload_length_ext_64 -e websocket.payload.text \
		-e data.data -e websocket.payload.close.status_code \
		-e websocket.payload.close.reason -e websocket.payload.ping \
		-e websocket.payload.pong >"$f.tshark.json"
done
chmod 644 ../*.pcap ../*.pcapng
ls -l ../*.pcap ../*.pcapng

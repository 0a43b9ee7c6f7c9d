#!/bin/sh
# Runs inside a private network namespace (see make-fixtures.sh): its
# loopback carries nothing but the sessions captured here.
set -eu
ip link set lo up
ip link set lo mtu 1500 # real-sized segments: big messages span several
# ...and no segmentation offload, or the capture sees 64 KiB super-packets.
ethtool -K lo tso off gso off gro off >/dev/null
out=..

# capture NAME MODE HOST PORT DUMPCAP-ARGS...
capture() {
	name=$1 mode=$2 host=$3 port=$4
	shift 4
	rm -f "$out/$name"
	dumpcap -q -f "tcp port $port" -w "$out/$name" "$@" &
	pid=$!
	sleep 1.5 # dumpcap is capturing once it has written the file header
	node session.js "$mode" "$host" "$port"
	sleep 0.5
	kill -INT "$pid"
	wait "$pid" || true
}

# -n: pcapng, -P: classic pcap; -y: the link-layer header type.
capture deflate.pcapng deflate 127.0.0.1 9001 -i lo -n
capture nocontext-ipv6-sll2.pcapng nocontext ::1 9002 -i any -y LINUX_SLL2 -n
capture plain.pcap plain 127.0.0.1 9003 -i lo -P

// Package pcap reads WebSocket sessions out of packet captures: classic
// pcap and pcapng files, as written by tcpdump, dumpcap and Wireshark. It
// is pure Go (no libpcap) and streams: memory depends on what is in flight
// in the capture, not on its size.
//
// Read walks the packets (Ethernet with VLAN tags, Linux cooked v1 and v2,
// raw IP, BSD loopback; IPv4 and IPv6), reassembles every TCP connection
// in both directions (out-of-order segments, retransmissions and overlaps,
// where the first copy of a byte wins), finds the HTTP upgrade on any port,
// and dissects the frames that follow with the inspect package: the same
// events a live connection produces, so a capture reads like a recording.
// permessage-deflate is decompressed, with or without context takeover.
//
// Bytes the capture lost are reported as gap events; the direction that
// lost them is not dissected further, since a WebSocket stream cannot be
// resynchronised safely. TLS (wss) cannot be read, and connections whose
// upgrade request was not captured are not recognised.
package pcap

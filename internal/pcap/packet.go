package pcap

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Link types (https://www.tcpdump.org/linktypes.html) this package reads.
const (
	linkNull     = 0   // BSD loopback: 4-byte address family, host order
	linkEthernet = 1   // Ethernet II, with 802.1Q/802.1ad tags
	linkRawOld   = 12  // raw IP on some systems (DLT_RAW)
	linkRawOld2  = 14  // raw IP on OpenBSD (DLT_RAW)
	linkRaw      = 101 // raw IPv4 or IPv6
	linkLoop     = 108 // OpenBSD loopback: 4-byte address family, network order
	linkSLL      = 113 // Linux cooked capture v1
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276 // Linux cooked capture v2
)

// TCP flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// segment is the TCP part of a packet.
type segment struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	payload  []byte // the captured payload
	// missing counts payload bytes the IP length announces but the capture
	// did not keep (a snapshot length shorter than the packet).
	missing int
}

// skip is returned for packets that are well formed but carry nothing this
// package reads (ARP, UDP, ...). It is not reported.
type skip struct{}

func (skip) Error() string { return "not TCP" }

// packetError describes a packet that could not be decoded. It is reported
// as a warning, and the packet is skipped.
type packetError string

func (e packetError) Error() string { return string(e) }

func bad(format string, args ...any) error { return packetError(fmt.Sprintf(format, args...)) }

// decode reads the TCP segment inside a packet of the given link type.
func decode(link uint32, b []byte, s *segment) error {
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return bad("truncated Ethernet header (%d bytes)", len(b))
		}
		etype, off := binary.BigEndian.Uint16(b[12:]), 14
		for etype == 0x8100 || etype == 0x88a8 || etype == 0x9100 {
			if len(b) < off+4 {
				return bad("truncated 802.1Q VLAN tag")
			}
			etype = binary.BigEndian.Uint16(b[off+2:])
			off += 4
		}
		return decodeEtherType(etype, b[off:], s)
	case linkSLL:
		if len(b) < 16 {
			return bad("truncated Linux cooked (SLL) header (%d bytes)", len(b))
		}
		return decodeEtherType(binary.BigEndian.Uint16(b[14:]), b[16:], s)
	case linkSLL2:
		if len(b) < 20 {
			return bad("truncated Linux cooked (SLL2) header (%d bytes)", len(b))
		}
		return decodeEtherType(binary.BigEndian.Uint16(b), b[20:], s)
	case linkRaw, linkRawOld, linkRawOld2:
		if len(b) == 0 {
			return bad("empty raw IP packet")
		}
		switch b[0] >> 4 {
		case 4:
			return decodeIPv4(b, s)
		case 6:
			return decodeIPv6(b, s)
		}
		return bad("raw IP packet with IP version %d", b[0]>>4)
	case linkIPv4:
		return decodeIPv4(b, s)
	case linkIPv6:
		return decodeIPv6(b, s)
	case linkNull, linkLoop:
		if len(b) < 4 {
			return bad("truncated loopback header (%d bytes)", len(b))
		}
		var af uint32
		if link == linkLoop {
			af = binary.BigEndian.Uint32(b)
		} else {
			// Host byte order of the machine that captured: a family is
			// small, so the order that gives a small number is the one.
			af = binary.LittleEndian.Uint32(b)
			if af > 0xFFFF {
				af = binary.BigEndian.Uint32(b)
			}
		}
		switch af {
		case 2: // AF_INET everywhere
			return decodeIPv4(b[4:], s)
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			return decodeIPv6(b[4:], s)
		}
		return skip{}
	}
	return bad("unsupported link type %d", link)
}

func decodeEtherType(etype uint16, b []byte, s *segment) error {
	switch etype {
	case 0x0800:
		return decodeIPv4(b, s)
	case 0x86DD:
		return decodeIPv6(b, s)
	}
	return skip{}
}

func decodeIPv4(b []byte, s *segment) error {
	if len(b) < 20 {
		return bad("truncated IPv4 header (%d bytes)", len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return bad("IPv4 header with version %d", v)
	}
	hl := int(b[0]&0x0F) * 4
	if hl < 20 {
		return bad("IPv4 header length %d is less than 20", hl)
	}
	if len(b) < hl {
		return bad("truncated IPv4 header (%d of %d bytes)", len(b), hl)
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total == 0 {
		// Segmentation offload: the capture saw the packet before the
		// card split it, and the length is left for the card to fill.
		total = len(b)
	}
	if total < hl {
		return bad("IPv4 total length %d is less than its header length %d", total, hl)
	}
	if b[9] != 6 {
		return skip{}
	}
	if frag := binary.BigEndian.Uint16(b[6:]); frag&0x3FFF != 0 {
		return bad("IPv4 fragment skipped (fragments are not reassembled)")
	}
	s.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[12:16])), 0)
	s.dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[16:20])), 0)
	return decodeTCP(b[hl:min(total, len(b))], total-hl, s)
}

func decodeIPv6(b []byte, s *segment) error {
	if len(b) < 40 {
		return bad("truncated IPv6 header (%d bytes)", len(b))
	}
	if v := b[0] >> 4; v != 6 {
		return bad("IPv6 header with version %d", v)
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if plen == 0 {
		// A jumbogram or an offloaded segment: take what was captured.
		plen = len(b) - 40
	}
	next := b[6]
	s.src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), 0)
	s.dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[24:40])), 0)
	p := b[40:]
	// Walk the extension headers to the TCP header.
	for {
		switch next {
		case 6:
			return decodeTCP(p[:min(plen, len(p))], plen, s)
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination options, mobility, HIP, shim6
			if len(p) < 8 {
				return bad("truncated IPv6 extension header %d", next)
			}
			n := (int(p[1]) + 1) * 8
			if len(p) < n || plen < n {
				return bad("truncated IPv6 extension header %d", next)
			}
			next, p, plen = p[0], p[n:], plen-n
		case 44: // fragment
			if len(p) < 8 || plen < 8 {
				return bad("truncated IPv6 fragment header")
			}
			if binary.BigEndian.Uint16(p[2:])&0xFFF9 != 0 {
				return bad("IPv6 fragment skipped (fragments are not reassembled)")
			}
			// An atomic fragment: the whole packet.
			next, p, plen = p[0], p[8:], plen-8
		case 51: // authentication header
			if len(p) < 8 {
				return bad("truncated IPv6 authentication header")
			}
			n := (int(p[1]) + 2) * 4
			if len(p) < n || plen < n {
				return bad("truncated IPv6 authentication header")
			}
			next, p, plen = p[0], p[n:], plen-n
		case 50:
			return bad("IPv6 packet with ESP skipped (encrypted)")
		default:
			// UDP, ICMPv6, no next header, ...
			return skip{}
		}
	}
}

// decodeTCP reads a TCP header from b, the captured part of an IP payload
// of size total.
func decodeTCP(b []byte, total int, s *segment) error {
	if len(b) < 20 {
		return bad("truncated TCP header (%d bytes)", len(b))
	}
	off := int(b[12]>>4) * 4
	if off < 20 {
		return bad("TCP data offset %d is less than 20", off)
	}
	if len(b) < off {
		return bad("truncated TCP header (%d of %d bytes)", len(b), off)
	}
	if total < off {
		return bad("TCP header (%d bytes) longer than its IP payload (%d bytes)", off, total)
	}
	s.src = netip.AddrPortFrom(s.src.Addr(), binary.BigEndian.Uint16(b))
	s.dst = netip.AddrPortFrom(s.dst.Addr(), binary.BigEndian.Uint16(b[2:]))
	s.seq = binary.BigEndian.Uint32(b[4:])
	s.ack = binary.BigEndian.Uint32(b[8:])
	s.flags = b[13]
	s.payload = b[off:]
	s.missing = total - len(b)
	return nil
}

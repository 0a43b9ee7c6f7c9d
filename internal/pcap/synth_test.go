package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// summary renders events compactly for comparisons.
func summary(recs []record) []string {
	var out []string
	for _, r := range recs {
		e := r.ev
		s := fmt.Sprintf("%d %s", e.Conn, e.Kind)
		switch e.Kind {
		case inspect.KindOpen:
			s += fmt.Sprintf(" %s %s->%s sub=%s ext=%s", e.Open.URL, e.Open.Local, e.Open.Remote, e.Open.Subprotocol, extString(e.Open.Extensions))
		case inspect.KindFrame:
			f := e.Frame
			s += fmt.Sprintf(" %d %s %s %q", f.Seq, f.Dir, f.Op, f.Payload)
			if !f.Fin {
				s += " more"
			}
			for _, v := range f.Violations {
				s += " !" + string(v.Rule)
			}
		case inspect.KindMsg:
			m := e.Msg
			s += fmt.Sprintf(" %s %s %q %v", m.Dir, m.Op, m.Payload, m.Frames)
			if m.Deflated {
				s += fmt.Sprintf(" deflated(%d)", m.WireLen)
			}
			for _, v := range m.Violations {
				s += " !" + string(v.Rule)
			}
		case inspect.KindEnd:
			en := e.End
			s += fmt.Sprintf(" clean=%v code=%d closer=%s tcp=%s", en.Clean, en.Code, en.Closer, en.TCP)
			if en.Err != "" {
				s += " err=" + en.Err
			}
		default:
			s += " " + e.Text
		}
		out = append(out, s)
	}
	return out
}

var basicWant = []string{
	"1 open ws://example.com:8080/chat?x=1 10.0.0.1:50000->10.0.0.2:8080 sub=chat ext=",
	`1 frame 1 c2s text "hello"`,
	`1 msg c2s text "hello" [1]`,
	`1 frame 2 s2c text "world"`,
	`1 msg s2c text "world" [2]`,
	`1 frame 3 c2s close "\x03\xe8bye"`,
	`1 frame 4 s2c close "\x03\xe8bye"`,
	"1 end clean=true code=1000 closer=client tcp=fin",
}

func basicWantFor(client, server string) []string {
	w := append([]string(nil), basicWant...)
	w[0] = strings.Replace(w[0], "10.0.0.1:50000->10.0.0.2:8080", client+"->"+server, 1)
	return w
}

func read(t *testing.T, b []byte, opts Options) []string {
	t.Helper()
	recs, err := collect(t, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	return summary(recs)
}

func same(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestLinkTypes(t *testing.T) {
	v4c, v4s := "10.0.0.1:50000", "10.0.0.2:8080"
	v6c, v6s := "[2001:db8::1]:50000", "[2001:db8::2]:8080"
	for _, tc := range []struct {
		name   string
		link   uint32 // written in the file
		build  uint32 // used to build the frames (0xFFFF: Ethernet with VLAN tags)
		client string
		server string
	}{
		{"ethernet-ipv4", linkEthernet, linkEthernet, v4c, v4s},
		{"ethernet-ipv6", linkEthernet, linkEthernet, v6c, v6s},
		{"ethernet-vlan-qinq", linkEthernet, 0xFFFF, v4c, v4s},
		{"sll-ipv4", linkSLL, linkSLL, v4c, v4s},
		{"sll-ipv6", linkSLL, linkSLL, v6c, v6s},
		{"sll2-ipv4", linkSLL2, linkSLL2, v4c, v4s},
		{"raw-ipv4", linkRaw, linkRaw, v4c, v4s},
		{"raw-ipv6", linkRaw, linkRaw, v6c, v6s},
		{"dlt-raw-12", linkRawOld, linkRaw, v4c, v4s},
		{"ipv4", linkIPv4, linkIPv4, v4c, v4s},
		{"ipv6", linkIPv6, linkIPv6, v6c, v6s},
		{"null-ipv4", linkNull, linkNull, v4c, v4s},
		{"null-ipv6-darwin", linkNull, linkNull, v6c, v6s},
		{"loop-ipv4", linkLoop, linkLoop, v4c, v4s},
		{"loop-ipv6", linkLoop, linkLoop, v6c, v6s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := basicSession(tc.client, tc.server)
			file := pcapFile(binary.LittleEndian, false, tc.link, packets(tc.build, f.pkts...))
			same(t, read(t, file, Options{}), basicWantFor(tc.client, tc.server))
		})
	}
	t.Run("null-big-endian-host", func(t *testing.T) {
		// A BSD loopback capture from a big-endian machine.
		f := basicSession(v4c, v4s)
		pk := packets(linkRaw, f.pkts...)
		for i := range pk {
			pk[i].data = append([]byte{0, 0, 0, 2}, pk[i].data...)
			pk[i].origLen += 4
		}
		same(t, read(t, pcapFile(binary.BigEndian, false, linkNull, pk), Options{}), basicWantFor(v4c, v4s))
	})
}

func TestIPHeaders(t *testing.T) {
	t.Run("ipv4-options", func(t *testing.T) {
		f := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
		for _, p := range f.pkts {
			p.ipOpts = []byte{1, 1, 1, 0} // NOP NOP NOP EOL
		}
		same(t, read(t, pcapFile(binary.LittleEndian, false, linkEthernet, packets(linkEthernet, f.pkts...)), Options{}), basicWant)
	})
	t.Run("ipv6-extension-headers", func(t *testing.T) {
		c, s := "[2001:db8::1]:50000", "[2001:db8::2]:8080"
		f := basicSession(c, s)
		for _, p := range f.pkts {
			p.v6ext = true
		}
		same(t, read(t, pcapFile(binary.LittleEndian, false, linkEthernet, packets(linkEthernet, f.pkts...)), Options{}), basicWantFor(c, s))
	})
	t.Run("ipv4-fragment", func(t *testing.T) {
		// The client's text goes out as IP fragments, which are not
		// reassembled: a warning for the packet, then the gap the server's
		// acknowledgment reveals.
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		frag := f.send(true, clientText("hello"))
		f.send(true, clientText("again"))
		f.send(false, serverText("world"))
		pk := packets(linkRaw, f.pkts...)
		fragIdx := 0
		for i, p := range f.pkts {
			if p == frag {
				fragIdx = i
			}
		}
		binary.BigEndian.PutUint16(pk[fragIdx].data[6:], 0x2000) // more fragments
		got := read(t, pcapFile(binary.LittleEndian, false, linkRaw, pk), Options{})
		same(t, got, []string{
			"1 open ws://example.com:8080/chat?x=1 10.0.0.1:50000->10.0.0.2:8080 sub=chat ext=",
			"0 error packet 6: IPv4 fragment skipped (fragments are not reassembled)",
			"1 gap capture lost 11 bytes from client to server at stream offset 274 (the receiver acknowledged them in packet 8): the rest of c2s is not dissected",
			`1 frame 1 s2c text "world"`,
			`1 msg s2c text "world" [1]`,
			"1 end clean=false code=1006 closer= tcp= err=capture lost 11 bytes from client to server at stream offset 274 (the receiver acknowledged them in packet 8): the rest of c2s is not dissected",
		})
	})
}

func TestPcapVariants(t *testing.T) {
	f := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
	pk := packets(linkEthernet, f.pkts...)
	for _, tc := range []struct {
		name  string
		order byteOrder
		nano  bool
	}{
		{"le-micro", binary.LittleEndian, false},
		{"le-nano", binary.LittleEndian, true},
		{"be-micro", binary.BigEndian, false},
		{"be-nano", binary.BigEndian, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := pcapFile(tc.order, tc.nano, linkEthernet, pk)
			recs, err := collect(t, file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			same(t, summary(recs), basicWant)
			open := recs[0].ev
			// The first packet is the SYN: times count from it.
			if !open.Open.Start.Equal(epoch.Add(time.Millisecond)) || open.T != 4*time.Millisecond {
				t.Errorf("start %v, t %v", open.Open.Start, open.T)
			}
		})
	}
}

func TestPcapng(t *testing.T) {
	f := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
	t.Run("little-and-big-endian", func(t *testing.T) {
		for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			same(t, read(t, pcapngFile(order, linkEthernet, packets(linkEthernet, f.pkts...)), Options{}), basicWant)
		}
	})
	t.Run("timestamp-resolutions", func(t *testing.T) {
		// Milliseconds (10^-3), 2^-10 seconds and nanoseconds with an
		// offset of 100 s: the event times do not depend on the unit.
		for _, tc := range []struct {
			tsresol byte
			offset  int64
			ts      func(time.Time) uint64
		}{
			{3, 0, func(t time.Time) uint64 { return uint64(t.UnixMilli()) }},
			{0x80 | 10, 0, func(t time.Time) uint64 {
				return uint64(t.Unix())<<10 | uint64(t.Nanosecond())*1024/1e9
			}},
			{9, 100, func(t time.Time) uint64 { return uint64(t.UnixNano() - 100e9) }},
		} {
			w := &ngWriter{}
			w.section(binary.LittleEndian)
			w.iface(linkEthernet, tc.tsresol, tc.offset)
			for _, p := range packets(linkEthernet, f.pkts...) {
				w.epb(0, tc.ts(p.t), p)
			}
			recs, err := collect(t, w.b, Options{})
			if err != nil {
				t.Fatal(err)
			}
			same(t, summary(recs), basicWant)
			open := recs[0].ev
			if d := open.Open.Start.Sub(epoch.Add(time.Millisecond)); d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("tsresol %#x: start %v", tc.tsresol, open.Open.Start)
			}
			if d := open.T - 4*time.Millisecond; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("tsresol %#x: t %v", tc.tsresol, open.T)
			}
		}
	})
	t.Run("sections-interfaces-and-block-kinds", func(t *testing.T) {
		// Two sections of different byte orders. The first has an
		// Ethernet interface and carries the start of the session in
		// enhanced packet blocks, with blocks this reader skips among
		// them; the second has a raw IP interface and an SLL2 one and
		// carries the rest in obsolete, simple and enhanced packet blocks.
		eth := packets(linkEthernet, f.pkts...)
		raw := packets(linkRaw, f.pkts...)
		sll2 := packets(linkSLL2, f.pkts...)
		w := &ngWriter{}
		w.section(binary.LittleEndian)
		w.block(0x00000004, []byte{0, 0, 0, 0})              // name resolution
		w.block(0x40000BAD, []byte("custom block contents")) // custom, copyable
		w.block(0x12345678, make([]byte, 100))               // unknown
		w.iface(linkEthernet, 0, 0)
		for i := 0; i < 5; i++ {
			w.epb(0, micros(eth[i].t), eth[i])
		}
		w.block(0x00000005, make([]byte, 20)) // interface statistics
		w.section(binary.BigEndian)
		w.iface(linkRaw, 0, 0)
		w.iface(linkSLL2, 0, 0)
		w.spb(raw[5]) // SPB: interface 0, no timestamp
		w.opb(1, micros(sll2[6].t), sll2[6])
		for i := 7; i < len(raw); i++ {
			if i%2 == 0 {
				w.epb(0, micros(raw[i].t), raw[i])
			} else {
				w.epb(1, micros(sll2[i].t), sll2[i])
			}
		}
		same(t, read(t, w.b, Options{}), basicWant)
	})
	t.Run("undescribed-interface", func(t *testing.T) {
		w := &ngWriter{}
		w.section(binary.LittleEndian)
		w.iface(linkEthernet, 0, 0)
		p := packets(linkEthernet, f.pkts...)
		w.epb(0, micros(p[0].t), p[0])
		w.epb(3, micros(p[1].t), p[1])
		err := Read(strings.NewReader(string(w.b)), Options{}, func(*inspect.Event) error { return nil })
		if err == nil || err.Error() != "packet 2: interface 3 is not described (the section has 1)" {
			t.Errorf("err %v", err)
		}
	})
}

func TestReassembly(t *testing.T) {
	// A client message of 3000 bytes in three segments, and a server
	// message in two.
	big := strings.Repeat("0123456789", 300)
	build := func() (*flow, [][]*tcpPkt) {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		cf := clientText(big)
		var c, s []*tcpPkt
		c = append(c, f.send(true, cf[:1000]), f.send(true, cf[1000:2000]), f.send(true, cf[2000:]))
		sf := serverText("world, in two segments")
		s = append(s, f.send(false, sf[:10]), f.send(false, sf[10:]))
		f.send(true, closeFrame(true, 1000, ""))
		f.send(false, closeFrame(false, 1000, ""))
		f.fin(false)
		f.fin(true)
		return f, [][]*tcpPkt{c, s}
	}
	want := []string{
		"1 open ws://example.com:8080/chat?x=1 10.0.0.1:50000->10.0.0.2:8080 sub=chat ext=",
		fmt.Sprintf("1 frame 1 c2s text %q", big),
		fmt.Sprintf("1 msg c2s text %q [1]", big),
		`1 frame 2 s2c text "world, in two segments"`,
		`1 msg s2c text "world, in two segments" [2]`,
		`1 frame 3 c2s close "\x03\xe8"`,
		`1 frame 4 s2c close "\x03\xe8"`,
		"1 end clean=true code=1000 closer=client tcp=fin",
	}
	file := func(pkts []*tcpPkt) []byte {
		return pcapFile(binary.LittleEndian, false, linkEthernet, packets(linkEthernet, pkts...))
	}
	index := func(pkts []*tcpPkt, p *tcpPkt) int {
		for i, q := range pkts {
			if q == p {
				return i
			}
		}
		panic("no such packet")
	}
	t.Run("in-order", func(t *testing.T) {
		f, _ := build()
		same(t, read(t, file(f.pkts), Options{}), want)
	})
	t.Run("out-of-order", func(t *testing.T) {
		f, seg := build()
		// The client's segments arrive 3, 1, 2; the server's 2, 1.
		c := seg[0]
		i := index(f.pkts, c[0])
		f.pkts[i], f.pkts[i+1], f.pkts[i+2] = c[2], c[0], c[1]
		s := seg[1]
		j := index(f.pkts, s[0])
		f.pkts[j], f.pkts[j+1] = s[1], s[0]
		same(t, read(t, file(f.pkts), Options{}), want)
	})
	t.Run("retransmissions-first-copy-wins", func(t *testing.T) {
		f, seg := build()
		c := seg[0]
		i := index(f.pkts, c[1])
		// A retransmission of bytes 500-1500 whose first half differs
		// from what was delivered: the first copy wins, the new bytes
		// are used. Then an exact duplicate of the last segment.
		re := *c[0]
		re.seq += 500
		re.payload = append([]byte(strings.Repeat("X", 500)), c[1].payload[:500]...)
		dup := *c[2]
		rest := append([]*tcpPkt{&re}, f.pkts[i:]...)
		f.pkts = append(f.pkts[:i], rest...)
		f.pkts = append(f.pkts[:index(f.pkts, c[2])+1], append([]*tcpPkt{&dup}, f.pkts[index(f.pkts, c[2])+1:]...)...)
		same(t, read(t, file(f.pkts), Options{}), want)
	})
	t.Run("overlapping-out-of-order", func(t *testing.T) {
		f, seg := build()
		c := seg[0]
		// Ahead of the hole: segment 2, then a copy of 1500-2500 with
		// different bytes where it overlaps segment 2; then segment 1.
		// Buffered bytes keep their first copy too.
		over := *c[1]
		over.seq += 500
		over.payload = append([]byte(strings.Repeat("Y", 500)), c[2].payload[:500]...)
		i := index(f.pkts, c[0])
		f.pkts[i], f.pkts[i+1] = c[1], &over
		f.pkts = append(f.pkts[:i+2], append([]*tcpPkt{c[0]}, f.pkts[i+2:]...)...)
		same(t, read(t, file(f.pkts), Options{}), want)
	})
	t.Run("mid-connection", func(t *testing.T) {
		// The capture starts after the TCP handshake.
		f, _ := build()
		same(t, read(t, file(f.pkts[3:]), Options{}), want)
	})
	t.Run("gap-acknowledged", func(t *testing.T) {
		f, seg := build()
		i := index(f.pkts, seg[0][1])
		f.pkts = append(f.pkts[:i], f.pkts[i+1:]...) // the capture missed it
		// The server's acknowledgment of the third segment tells the
		// second one was received, and lost by the capture.
		same(t, read(t, file(f.pkts), Options{}), []string{
			want[0],
			"1 gap capture lost 1000 bytes from client to server at stream offset 1274 (the receiver acknowledged them in packet 8): the rest of c2s is not dissected",
			`1 frame 1 s2c text "world, in two segments"`,
			`1 msg s2c text "world, in two segments" [1]`,
			`1 frame 2 s2c close "\x03\xe8"`,
			"1 end clean=false code=1000 closer=server tcp=fin err=capture lost 1000 bytes from client to server at stream offset 1274 (the receiver acknowledged them in packet 8): the rest of c2s is not dissected",
		})
	})
	t.Run("gap-at-the-end", func(t *testing.T) {
		// The last data the server sent is missing and nothing
		// acknowledges it: the gap shows when the capture ends.
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		sf := serverText("world, in two segments")
		f.send(false, sf[:10])
		f.send(false, sf[10:])
		f.ackOnly(true)
		f.pkts = append(f.pkts[:len(f.pkts)-2], f.pkts[len(f.pkts)-1]) // the capture missed the second segment
		text := fmt.Sprintf("capture lost 14 bytes from server to client at stream offset %d (the capture ended without them): the rest of s2c is not dissected", len(upgradeResponse(""))+10)
		same(t, read(t, file(f.pkts), Options{}), []string{
			want[0],
			"1 gap " + text,
			"1 end clean=false code=1006 closer= tcp= err=" + text,
		})
	})
	t.Run("gap-before-a-reset", func(t *testing.T) {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		sf := serverText("world, in two segments")
		f.send(false, sf[:10])
		f.send(false, sf[10:])
		f.ackOnly(true)
		f.rst(false)
		f.pkts = append(f.pkts[:6], f.pkts[7:]...) // the capture missed the second segment
		text := fmt.Sprintf("capture lost 14 bytes from server to client at stream offset %d (the connection ended without them, packet 8): the rest of s2c is not dissected", len(upgradeResponse(""))+10)
		same(t, read(t, file(f.pkts), Options{}), []string{
			want[0],
			"1 gap " + text,
			"1 end clean=false code=1006 closer= tcp=reset err=" + text,
		})
	})
	t.Run("snapshot-length", func(t *testing.T) {
		// The capture kept only the first 100 bytes of the client's
		// first segment.
		f, seg := build()
		seg[0][0].capLen = 100
		got := read(t, file(f.pkts), Options{})
		same(t, got[:2], []string{
			want[0],
			"1 gap capture lost 940 bytes from client to server at stream offset 334 (the receiver acknowledged them in packet 9): the rest of c2s is not dissected",
		})
	})
}

func TestReorderLimit(t *testing.T) {
	// After a hole, more than 4 MiB arrive with no acknowledgment: the
	// hole is declared lost rather than buffering without end.
	f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
	f.syn()
	f.send(true, []byte(upgradeRequest))
	f.send(false, []byte(upgradeResponse("")))
	chunk := make([]byte, 1400)
	lost := f.add(true, 0, chunk)
	for f.next[0]-lost.seq < maxReorderBytes+3000 {
		f.add(true, 0, chunk)
	}
	f.pkts = append(f.pkts[:5], f.pkts[6:]...) // drop lost
	got := read(t, pcapFile(binary.LittleEndian, false, linkEthernet, packets(linkEthernet, f.pkts...)), Options{})
	if len(got) != 3 || !strings.HasPrefix(got[1], "1 gap capture lost 1400 bytes from client to server at stream offset 274 (more than 4194") {
		t.Errorf("got %q", got)
	}
}

func TestHandshakes(t *testing.T) {
	pcap := func(f *flow) []byte {
		return pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, f.pkts...))
	}
	open := "1 open ws://example.com:8080/chat?x=1 10.0.0.1:50000->10.0.0.2:8080 sub=chat ext="
	t.Run("frames-in-the-handshake-segments", func(t *testing.T) {
		// The client sends a frame right behind its request (before the
		// 101), the server one right behind the 101.
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, append([]byte(upgradeRequest), clientText("early")...))
		f.send(false, append([]byte(upgradeResponse("")), serverText("first")...))
		same(t, read(t, pcap(f), Options{}), []string{
			open,
			`1 frame 1 c2s text "early"`,
			`1 msg c2s text "early" [1]`,
			`1 frame 2 s2c text "first"`,
			`1 msg s2c text "first" [2]`,
			"1 end clean=false code=1006 closer= tcp= err=the capture ended before the connection did",
		})
	})
	t.Run("heads-split-byte-by-byte", func(t *testing.T) {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		for _, c := range []byte(upgradeRequest) {
			f.send(true, []byte{c})
		}
		resp := upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate;\r\n  server_no_context_takeover; x=\"a;b\\\"c\", other\r\n")
		for i := 0; i < len(resp); i += 7 {
			f.send(false, []byte(resp[i:min(i+7, len(resp))]))
		}
		f.send(false, serverText("ok"))
		got := read(t, pcap(f), Options{})
		same(t, got[:2], []string{
			`1 open ws://example.com:8080/chat?x=1 10.0.0.1:50000->10.0.0.2:8080 sub=chat ext=permessage-deflate[server_no_context_takeover= x=a;b"c]other[]`,
			`1 frame 1 s2c text "ok"`,
		})
	})
	t.Run("client-on-the-higher-port-any-server-port", func(t *testing.T) {
		f := newFlow("[fe80::2]:60000", "[fe80::1]:1234")
		f.syn()
		f.send(true, []byte(strings.Replace(upgradeRequest, "Host: example.com:8080\r\n", "", 1)))
		f.send(false, []byte(upgradeResponse("")))
		got := read(t, pcap(f), Options{})
		same(t, got[:1], []string{"1 open ws://[fe80::1]:1234/chat?x=1 [fe80::2]:60000->[fe80::1]:1234 sub=chat ext="})
	})
	t.Run("refused", func(t *testing.T) {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"))
		f.fin(false)
		f.fin(true)
		same(t, read(t, pcap(f), Options{}), []string{"1 error handshake refused: HTTP/1.1 401 Unauthorized (GET ws://example.com:8080/chat?x=1)"})
	})
	t.Run("unanswered", func(t *testing.T) {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		same(t, read(t, pcap(f), Options{}), []string{"1 error the connection ended before the server answered the WebSocket upgrade"})
	})
	t.Run("not-websocket", func(t *testing.T) {
		// Plain HTTP, and a binary protocol: nothing to report.
		a := newFlow("10.0.0.1:50000", "10.0.0.2:80")
		a.syn()
		a.send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		a.send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
		b := newFlow("10.0.0.1:50001", "10.0.0.2:443")
		b.syn()
		b.send(true, []byte{0x16, 0x03, 0x01, 0x02, 0x00})
		b.send(false, []byte{0x16, 0x03, 0x03, 0x00, 0x7a})
		c := newFlow("10.0.0.1:50002", "10.0.0.2:80")
		c.syn()
		c.send(true, []byte("POST /x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"))
		pkts := append(append(a.pkts, b.pkts...), c.pkts...)
		same(t, read(t, pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, pkts...)), Options{}), nil)
	})
	t.Run("absolute-target", func(t *testing.T) {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(strings.Replace(upgradeRequest, "GET /chat?x=1 ", "GET http://proxy.example/ws ", 1)))
		f.send(false, []byte(upgradeResponse("")))
		same(t, read(t, pcap(f), Options{})[:1], []string{"1 open ws://proxy.example/ws 10.0.0.1:50000->10.0.0.2:8080 sub=chat ext="})
	})
}

func TestEnds(t *testing.T) {
	start := func() *flow {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		return f
	}
	last := func(f *flow) string {
		got := read(t, pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, f.pkts...)), Options{})
		return got[len(got)-1]
	}
	for _, tc := range []struct {
		name string
		tail func(f *flow)
		want string
	}{
		{"reset", func(f *flow) { f.rst(false) }, "1 end clean=false code=1006 closer= tcp=reset err=connection reset"},
		{"fin-without-close", func(f *flow) { f.fin(false); f.fin(true) }, "1 end clean=false code=1006 closer= tcp=fin err=connection closed without a close frame"},
		{"unanswered-close", func(f *flow) {
			f.send(false, closeFrame(false, 1001, "restart"))
			f.fin(false)
			f.fin(true)
		}, "1 end clean=false code=1001 closer=server tcp=fin err=connection closed before the client answered the close frame"},
		{"capture-ends-after-close", func(f *flow) {
			f.send(false, closeFrame(false, 1001, "restart"))
		}, "1 end clean=false code=1001 closer=server tcp= err=the capture ended before the client answered the close frame"},
		{"empty-close-then-reset", func(f *flow) {
			f.send(true, wsFrame(true, 0, inspect.OpClose, true, nil))
			f.send(false, wsFrame(true, 0, inspect.OpClose, false, nil))
			f.rst(false)
		}, "1 end clean=true code=1005 closer=client tcp=reset"},
		{"clean-close-then-reset", func(f *flow) {
			f.send(false, closeFrame(false, 1000, ""))
			f.send(true, closeFrame(true, 1000, ""))
			f.rst(true)
		}, "1 end clean=true code=1000 closer=server tcp=reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start()
			tc.tail(f)
			if got := last(f); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestConnections(t *testing.T) {
	// Two connections interleaved, the second answered first, then the
	// first's addresses reused for a third after it closed.
	a := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
	b := basicSession("10.0.0.3:50001", "10.0.0.2:8080")
	c := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
	for _, p := range b.pkts {
		p.t = p.t.Add(-500 * time.Microsecond)
	}
	b.pkts[4].t = a.pkts[4].t.Add(-2 * time.Millisecond) // b's 101 first
	for _, p := range c.pkts {
		p.t = p.t.Add(time.Second)
		p.seq += 5000 // a new connection: new initial sequence numbers
		if p.flags&flagSYN == 0 || p.flags&flagACK != 0 {
			p.ack += 5000
		}
	}
	var pkts []*tcpPkt
	i, j := 0, 0
	for i < len(a.pkts) || j < len(b.pkts) {
		if j == len(b.pkts) || (i < len(a.pkts) && a.pkts[i].t.Before(b.pkts[j].t)) {
			pkts = append(pkts, a.pkts[i])
			i++
		} else {
			pkts = append(pkts, b.pkts[j])
			j++
		}
	}
	pkts = append(pkts, c.pkts...)
	got := read(t, pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, pkts...)), Options{})
	var opens []string
	ends := 0
	for _, s := range got {
		if strings.Contains(s, " open ") {
			opens = append(opens, s[:strings.Index(s, " sub=")])
		}
		if strings.Contains(s, " end clean=true") {
			ends++
		}
	}
	same(t, opens, []string{
		"1 open ws://example.com:8080/chat?x=1 10.0.0.3:50001->10.0.0.2:8080",
		"2 open ws://example.com:8080/chat?x=1 10.0.0.1:50000->10.0.0.2:8080",
		"3 open ws://example.com:8080/chat?x=1 10.0.0.1:50000->10.0.0.2:8080",
	})
	if ends != 3 || len(got) != 3*len(basicWant) {
		t.Errorf("%d clean ends, %d events:\n%s", ends, len(got), strings.Join(got, "\n"))
	}
}

// Memory stays flat over a long capture of many connections: finished
// ones and idle ones that are not WebSocket are forgotten.
func TestMemoryFlat(t *testing.T) {
	var pkts []*tcpPkt
	const n = 12000
	for i := range n {
		f := newFlow(fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250+1, 40000+i%1000), "10.0.0.2:80")
		f.clock = epoch.Add(time.Duration(i) * 100 * time.Millisecond)
		f.syn()
		f.send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		f.send(false, []byte("HTTP/1.1 204 No Content\r\n\r\n"))
		if i%3 != 0 { // a third are left open, idle
			f.fin(false)
			f.fin(true)
		}
		pkts = append(pkts, f.pkts...)
	}
	file := pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, pkts...))
	src, err := openSource(strings.NewReader(string(file)))
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	rd := newReader(Options{}, func(*inspect.Event) error { events++; return nil })
	if err := withoutNoWebSocket(rd.run(src)); err != nil {
		t.Fatal(err)
	}
	// 20 minutes of capture. What is left: the idle ones of the last 10
	// minutes (2000), the finished ones of the last 2 (800), and what
	// came since the last sweep.
	if len(rd.conns) > n/3 || events != 0 {
		t.Errorf("%d connections still tracked out of %d, %d events", len(rd.conns), n, events)
	}
}

// A capture without WebSocket traffic says what it found, as an empty HAR
// does; one whose packets go back in time keeps its times from going back.
func TestCaptureVerdicts(t *testing.T) {
	a := newFlow("10.0.0.1:50000", "10.0.0.2:80")
	a.syn()
	a.send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	a.send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
	err := Read(bytes.NewReader(pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, a.pkts...))), Options{}, func(*inspect.Event) error { return nil })
	var nw *NoWebSocketError
	if !errors.As(err, &nw) || nw.Packets != 5 || nw.Flows != 1 || !strings.Contains(err.Error(), "no WebSocket connection in the capture (5 packets, 1 TCP connections") {
		t.Errorf("plain HTTP capture: %v", err)
	}

	f := newFlow("10.0.0.1:50001", "10.0.0.2:8080")
	f.syn()
	f.send(true, []byte(upgradeRequest))
	f.send(false, []byte(upgradeResponse("")))
	f.send(true, wsFrame(true, 0, inspect.OpText, true, []byte("hello")))
	f.pkts[len(f.pkts)-1].t = epoch.Add(-time.Hour) // stamped before the capture began
	f.send(false, wsFrame(true, 0, inspect.OpText, false, []byte("world")))
	recs, err := collect(t, pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, f.pkts...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var last time.Duration
	for _, r := range recs {
		if r.ev.T < last {
			t.Errorf("%s at %s, after %s", r.ev.Kind, r.ev.T, last)
		}
		last = r.ev.T
	}
}

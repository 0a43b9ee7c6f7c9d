package pcap

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gobwas/ws"

	"github.com/wscope/wscope/inspect"
)

// This file builds captures for the tests: TCP flows, IP packets, link
// headers, and pcap and pcapng files around them.

var epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// tcpPkt is one TCP segment of a flow.
type tcpPkt struct {
	t        time.Time
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	payload  []byte
	ipOpts   []byte // IPv4 options (a multiple of 4 bytes)
	v6ext    bool   // IPv6: put extension headers before TCP
	capLen   int    // when > 0, the capture keeps only this much of the IP packet
}

// flow writes the packets of one TCP connection.
type flow struct {
	client, server netip.AddrPort
	next           [2]uint32 // next sequence number: [0] client, [1] server
	clock          time.Time
	pkts           []*tcpPkt
}

func newFlow(client, server string) *flow {
	return &flow{
		client: netip.MustParseAddrPort(client),
		server: netip.MustParseAddrPort(server),
		next:   [2]uint32{1000, 0xFFFFFF00}, // the server's wraps around
		clock:  epoch,
	}
}

func (f *flow) add(fromClient bool, flags uint8, payload []byte) *tcpPkt {
	i, src, dst := 0, f.client, f.server
	if !fromClient {
		i, src, dst = 1, f.server, f.client
	}
	f.clock = f.clock.Add(time.Millisecond)
	p := &tcpPkt{t: f.clock, src: src, dst: dst, seq: f.next[i], ack: f.next[1-i], flags: flags, payload: payload}
	f.next[i] += uint32(len(payload))
	if flags&(flagSYN|flagFIN) != 0 {
		f.next[i]++
	}
	f.pkts = append(f.pkts, p)
	return p
}

func (f *flow) syn() {
	f.add(true, flagSYN, nil).ack = 0
	f.add(false, flagSYN|flagACK, nil)
	f.add(true, flagACK, nil)
}

func (f *flow) send(fromClient bool, b []byte) *tcpPkt { return f.add(fromClient, flagACK, b) }
func (f *flow) ackOnly(fromClient bool) *tcpPkt        { return f.add(fromClient, flagACK, nil) }
func (f *flow) fin(fromClient bool) *tcpPkt            { return f.add(fromClient, flagFIN|flagACK, nil) }
func (f *flow) rst(fromClient bool) *tcpPkt            { return f.add(fromClient, flagRST|flagACK, nil) }

const upgradeRequest = "GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"

func upgradeResponse(extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n" + extra + "\r\n"
}

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// wsFrame returns a frame's wire bytes; client frames (masked) use
// testMask.
func wsFrame(fin bool, rsv uint8, op inspect.OpCode, masked bool, payload []byte) []byte {
	h := inspect.Header{Fin: fin, Rsv: rsv, Op: op, Masked: masked, Mask: testMask, Length: uint64(len(payload))}
	b := inspect.AppendHeader(nil, h)
	n := len(b)
	b = append(b, payload...)
	if masked {
		ws.Cipher(b[n:], testMask, 0)
	}
	return b
}

func clientText(s string) []byte { return wsFrame(true, 0, inspect.OpText, true, []byte(s)) }
func serverText(s string) []byte { return wsFrame(true, 0, inspect.OpText, false, []byte(s)) }
func closeFrame(client bool, code inspect.CloseCode, reason string) []byte {
	return wsFrame(true, 0, inspect.OpClose, client, inspect.AppendClose(nil, code, reason))
}

// basicSession: handshake, one message each way, the close handshake
// (client first, 1000) and FIN both ways.
func basicSession(client, server string) *flow {
	f := newFlow(client, server)
	f.syn()
	f.send(true, []byte(upgradeRequest))
	f.send(false, []byte(upgradeResponse("")))
	f.send(true, clientText("hello"))
	f.send(false, serverText("world"))
	f.send(true, closeFrame(true, 1000, "bye"))
	f.send(false, closeFrame(false, 1000, "bye"))
	f.fin(false)
	f.fin(true)
	f.ackOnly(false)
	return f
}

// ipPacket returns the IPv4 or IPv6 packet carrying p.
func ipPacket(p *tcpPkt) []byte {
	tcp := make([]byte, 20, 20+len(p.payload))
	binary.BigEndian.PutUint16(tcp[0:], p.src.Port())
	binary.BigEndian.PutUint16(tcp[2:], p.dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], p.seq)
	binary.BigEndian.PutUint32(tcp[8:], p.ack)
	tcp[12] = 5 << 4
	tcp[13] = p.flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	tcp = append(tcp, p.payload...)
	if p.src.Addr().Is4() {
		hl := 20 + len(p.ipOpts)
		ip := make([]byte, hl, hl+len(tcp))
		ip[0] = 0x40 | byte(hl/4)
		binary.BigEndian.PutUint16(ip[2:], uint16(hl+len(tcp)))
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
		ip[8], ip[9] = 64, 6
		a, b := p.src.Addr().As4(), p.dst.Addr().As4()
		copy(ip[12:], a[:])
		copy(ip[16:], b[:])
		copy(ip[20:], p.ipOpts)
		return append(ip, tcp...)
	}
	var ext []byte
	next := byte(6)
	if p.v6ext {
		// Hop-by-hop options (8 bytes of padding), destination options
		// (16 bytes), an atomic fragment header, then TCP.
		ext = []byte{60, 0, 1, 4, 0, 0, 0, 0}
		ext = append(ext, 44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		ext = append(ext, 6, 0, 0, 0, 0, 0, 0x12, 0x34)
		next = 0
	}
	ip := make([]byte, 40, 40+len(ext)+len(tcp))
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(ext)+len(tcp)))
	ip[6], ip[7] = next, 64
	a, b := p.src.Addr().As16(), p.dst.Addr().As16()
	copy(ip[8:], a[:])
	copy(ip[24:], b[:])
	ip = append(ip, ext...)
	return append(ip, tcp...)
}

// linkFrame wraps an IP packet in the link-layer header of link.
func linkFrame(link uint32, ip []byte) []byte {
	v6 := ip[0]>>4 == 6
	etype := []byte{0x08, 0x00}
	if v6 {
		etype = []byte{0x86, 0xDD}
	}
	var h []byte
	switch link {
	case linkEthernet:
		h = append(make([]byte, 12), etype...)
	case linkSLL:
		h = []byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}
		h = append(h, etype...)
	case linkSLL2:
		h = append(etype, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0)
	case linkNull:
		af := uint32(2)
		if v6 {
			af = 30
		}
		h = binary.LittleEndian.AppendUint32(nil, af)
	case linkLoop:
		af := uint32(2)
		if v6 {
			af = 24
		}
		h = binary.BigEndian.AppendUint32(nil, af)
	}
	return append(h, ip...)
}

// vlanFrame is an Ethernet frame with an 802.1ad tag and an 802.1Q tag.
func vlanFrame(ip []byte) []byte {
	h := make([]byte, 12)
	h = append(h, 0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0a)
	if ip[0]>>4 == 6 {
		h = append(h, 0x86, 0xDD)
	} else {
		h = append(h, 0x08, 0x00)
	}
	return append(h, ip...)
}

// rawPkt is a captured packet: its time, captured bytes and original
// length.
type rawPkt struct {
	t       time.Time
	data    []byte
	origLen int
}

// packets encodes the flows' packets for link, merged in time order.
func packets(link uint32, pkts ...*tcpPkt) []rawPkt {
	out := make([]rawPkt, 0, len(pkts))
	for _, p := range pkts {
		var b []byte
		ip := ipPacket(p)
		orig := len(ip)
		if p.capLen > 0 {
			ip = ip[:p.capLen]
		}
		if link == 0xFFFF { // Ethernet with VLAN tags
			b = vlanFrame(ip)
		} else {
			b = linkFrame(link, ip)
		}
		out = append(out, rawPkt{p.t, b, len(b) - len(ip) + orig})
	}
	return out
}

// pcapFile writes a classic pcap file.
func pcapFile(order byteOrder, nano bool, link uint32, pkts []rawPkt) []byte {
	magic := uint32(magicMicro)
	if nano {
		magic = magicNano
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 262144)
	b = order.AppendUint32(b, link)
	for _, p := range pkts {
		frac := p.t.Nanosecond()
		if !nano {
			frac /= 1000
		}
		b = order.AppendUint32(b, uint32(p.t.Unix()))
		b = order.AppendUint32(b, uint32(frac))
		b = order.AppendUint32(b, uint32(len(p.data)))
		b = order.AppendUint32(b, uint32(p.origLen))
		b = append(b, p.data...)
	}
	return b
}

// ngWriter writes pcapng blocks.
type ngWriter struct {
	b     []byte
	order byteOrder
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (w *ngWriter) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	w.b = w.order.AppendUint32(w.b, typ)
	w.b = w.order.AppendUint32(w.b, n)
	w.b = append(w.b, body...)
	w.b = w.order.AppendUint32(w.b, n)
}

// option appends one pcapng option.
func (w *ngWriter) option(b []byte, code uint16, v []byte) []byte {
	b = w.order.AppendUint16(b, code)
	b = w.order.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *ngWriter) section(order byteOrder) {
	w.order = order
	body := order.AppendUint32(nil, byteOrderBOM)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0))
	body = w.option(body, 4, []byte("wscope tests")) // shb_userappl
	body = w.option(body, 0, nil)
	w.block(blockSHB, body)
}

// iface describes an interface; tsresol 0 leaves the default (µs).
func (w *ngWriter) iface(link uint32, tsresol byte, tsoffset int64) {
	body := w.order.AppendUint16(nil, uint16(link))
	body = w.order.AppendUint16(body, 0)
	body = w.order.AppendUint32(body, 0)
	body = w.option(body, 2, []byte("eth0")) // if_name
	if tsresol != 0 {
		body = w.option(body, 9, []byte{tsresol})
	}
	if tsoffset != 0 {
		body = w.option(body, 14, w.order.AppendUint64(nil, uint64(tsoffset)))
	}
	body = w.option(body, 0, nil)
	w.block(blockIDB, body)
}

func (w *ngWriter) epb(id uint32, ts uint64, p rawPkt) {
	body := w.order.AppendUint32(nil, id)
	body = w.order.AppendUint32(body, uint32(ts>>32))
	body = w.order.AppendUint32(body, uint32(ts))
	body = w.order.AppendUint32(body, uint32(len(p.data)))
	body = w.order.AppendUint32(body, uint32(p.origLen))
	body = append(body, p.data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = w.option(body, 1, []byte("a comment")) // opt_comment
	w.block(blockEPB, body)
}

func (w *ngWriter) opb(id uint16, ts uint64, p rawPkt) {
	body := w.order.AppendUint16(nil, id)
	body = w.order.AppendUint16(body, 0)
	body = w.order.AppendUint32(body, uint32(ts>>32))
	body = w.order.AppendUint32(body, uint32(ts))
	body = w.order.AppendUint32(body, uint32(len(p.data)))
	body = w.order.AppendUint32(body, uint32(p.origLen))
	body = append(body, p.data...)
	w.block(blockOPB, body)
}

func (w *ngWriter) spb(p rawPkt) {
	body := w.order.AppendUint32(nil, uint32(p.origLen))
	w.block(blockSPB, append(body, p.data...))
}

// micros is a timestamp in the default pcapng resolution.
func micros(t time.Time) uint64 { return uint64(t.UnixMicro()) }

// pcapngFile writes one section with one interface of link, every packet
// in an enhanced packet block.
func pcapngFile(order byteOrder, link uint32, pkts []rawPkt) []byte {
	w := &ngWriter{}
	w.section(order)
	w.iface(link, 0, 0)
	for _, p := range pkts {
		w.epb(0, micros(p.t), p)
	}
	return w.b
}

// deflater compresses messages the way a permessage-deflate sender does.
type deflater struct {
	buf      bytes.Buffer
	w        *flate.Writer
	takeover bool
}

func newDeflater(takeover bool) *deflater {
	d := &deflater{takeover: takeover}
	d.w, _ = flate.NewWriter(&d.buf, flate.BestCompression)
	return d
}

func (d *deflater) compress(p []byte) []byte {
	if !d.takeover {
		d.w.Reset(&d.buf)
	}
	d.buf.Reset()
	d.w.Write(p)
	d.w.Flush()
	b := bytes.Clone(d.buf.Bytes())
	return bytes.TrimSuffix(b, []byte{0, 0, 0xff, 0xff})
}

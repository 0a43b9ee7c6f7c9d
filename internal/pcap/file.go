package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// maxCapLen bounds the captured length of one packet. Wireshark refuses
// larger ones for every link type this package reads; it also bounds the
// memory a lying length field can cost.
const maxCapLen = 256 << 10

// maxBlockLen bounds a pcapng block that is read into memory (packets,
// section and interface descriptions). Other blocks are skipped without
// being read into memory, whatever their length.
const maxBlockLen = maxCapLen + 64<<10

// The magic numbers that open a capture file, as read big-endian.
const (
	magicMicro   = 0xa1b2c3d4 // classic pcap, microsecond timestamps
	magicNano    = 0xa1b23c4d // classic pcap, nanosecond timestamps
	magicMicroLE = 0xd4c3b2a1
	magicNanoLE  = 0x4d3cb2a1
	blockSHB     = 0x0a0d0d0a // pcapng section header block
	byteOrderBOM = 0x1a2b3c4d
)

// pcapng block types this package reads.
const (
	blockIDB = 0x00000001 // interface description
	blockOPB = 0x00000002 // obsolete packet block
	blockSPB = 0x00000003 // simple packet block
	blockEPB = 0x00000006 // enhanced packet block
)

// packet is one captured packet. data is valid until the next call to
// next.
type packet struct {
	num     int // 1-based, in file order
	ts      time.Time
	link    uint32
	data    []byte
	origLen uint32
}

// source yields the packets of a capture file in order. next returns
// io.EOF at a clean end, a *cutError when the file ends inside a record
// (the capture was cut short), and any other error when the file is
// malformed.
type source interface {
	next(p *packet) error
}

// cutError reports a file that ends inside a packet record or block.
type cutError struct {
	num       int // the packet (or block) that was cut
	got, want int
	what      string
}

func (e *cutError) Error() string {
	return fmt.Sprintf("packet %d: the file ends inside the %s (%d of %d bytes): the capture was cut short", e.num, e.what, e.got, e.want)
}

// Sniff reports whether b, the first bytes of a file, look like a classic
// pcap or a pcapng capture. Four bytes are enough; for pcapng, twelve make
// the answer surer.
func Sniff(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch binary.BigEndian.Uint32(b) {
	case magicMicro, magicNano, magicMicroLE, magicNanoLE:
		return true
	case blockSHB:
		if len(b) < 12 {
			return true
		}
		bom := binary.BigEndian.Uint32(b[8:])
		return bom == byteOrderBOM || bom == bits.ReverseBytes32(byteOrderBOM)
	}
	return false
}

// openSource reads the start of a capture and returns the reader for its
// format.
func openSource(r io.Reader) (source, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if len(magic) < 4 {
		if err == nil || errors.Is(err, io.EOF) {
			if len(magic) == 0 {
				return nil, errors.New("not a pcap or pcapng capture: the file is empty")
			}
			return nil, fmt.Errorf("not a pcap or pcapng capture: the file has only %d bytes", len(magic))
		}
		return nil, err
	}
	switch m := binary.BigEndian.Uint32(magic); m {
	case magicMicro, magicNano, magicMicroLE, magicNanoLE:
		return newPcapReader(br)
	case blockSHB:
		return &ngReader{r: br}, nil
	default:
		return nil, fmt.Errorf("not a pcap or pcapng capture (the file starts with %x)", magic)
	}
}

// grow returns buf with room for n bytes.
func grow(buf []byte, n int) []byte {
	if cap(buf) < n {
		return make([]byte, n)
	}
	return buf[:n]
}

// pcapReader reads the classic libpcap format: a 24-byte file header, then
// records of a 16-byte header and the captured bytes.
type pcapReader struct {
	r     *bufio.Reader
	order binary.ByteOrder
	nano  bool
	link  uint32
	num   int
	hdr   [16]byte
	buf   []byte
}

func newPcapReader(r *bufio.Reader) (*pcapReader, error) {
	var h [24]byte
	if n, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap file header: the file ends after %d of its 24 bytes", n)
	}
	p := &pcapReader{r: r}
	switch binary.BigEndian.Uint32(h[:]) {
	case magicMicro:
		p.order = binary.BigEndian
	case magicNano:
		p.order, p.nano = binary.BigEndian, true
	case magicMicroLE:
		p.order = binary.LittleEndian
	case magicNanoLE:
		p.order, p.nano = binary.LittleEndian, true
	}
	if major := p.order.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("pcap file header: unsupported version %d.%d (want 2.4)", major, p.order.Uint16(h[6:]))
	}
	// The low 16 bits are the link type; the high bits may describe an FCS,
	// which the IP length makes irrelevant here.
	p.link = p.order.Uint32(h[20:]) & 0xFFFF
	return p, nil
}

func (p *pcapReader) next(pk *packet) error {
	p.num++
	n, err := io.ReadFull(p.r, p.hdr[:])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return &cutError{num: p.num, got: n, want: len(p.hdr), what: "packet record header"}
		}
		return err
	}
	sec := p.order.Uint32(p.hdr[0:])
	frac := p.order.Uint32(p.hdr[4:])
	capLen := p.order.Uint32(p.hdr[8:])
	origLen := p.order.Uint32(p.hdr[12:])
	if capLen > maxCapLen {
		return fmt.Errorf("packet %d: captured length %d exceeds the limit of %d bytes (corrupt file?)", p.num, capLen, maxCapLen)
	}
	p.buf = grow(p.buf, int(capLen))
	if n, err := io.ReadFull(p.r, p.buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &cutError{num: p.num, got: n, want: int(capLen), what: "packet data"}
		}
		return err
	}
	ns := int64(frac)
	if !p.nano {
		ns *= 1000
	}
	*pk = packet{num: p.num, ts: time.Unix(int64(sec), ns), link: p.link, data: p.buf, origLen: origLen}
	return nil
}

// ngInterface is what a pcapng interface description block says.
type ngInterface struct {
	link    uint32
	snapLen uint32
	// Timestamps count units of 10^-exp seconds, or 2^-exp when pow2.
	exp    uint8
	pow2   bool
	offset int64 // seconds added to every timestamp (if_tsoffset)
}

// ngReader reads pcapng: sections of blocks, each section opened by a
// section header block that fixes the byte order and resets the interfaces.
type ngReader struct {
	r       *bufio.Reader
	order   binary.ByteOrder
	ifaces  []ngInterface
	started bool // a section header was read
	num     int  // packets so far
	blocks  int  // blocks so far
	lastTS  time.Time
	hdr     [12]byte
	buf     []byte
}

func (g *ngReader) next(pk *packet) error {
	for {
		g.blocks++
		n, err := io.ReadFull(g.r, g.hdr[:8])
		if err != nil {
			if n == 0 && errors.Is(err, io.EOF) {
				if !g.started {
					return errors.New("pcapng: no section header block")
				}
				return io.EOF
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return &cutError{num: g.num + 1, got: n, want: 8, what: fmt.Sprintf("header of block %d", g.blocks)}
			}
			return err
		}
		typ := binary.BigEndian.Uint32(g.hdr[:])
		if typ == blockSHB {
			if err := g.section(); err != nil {
				return err
			}
			continue
		}
		if !g.started {
			return fmt.Errorf("pcapng block %d: the file does not start with a section header block", g.blocks)
		}
		typ = g.order.Uint32(g.hdr[:])
		length := g.order.Uint32(g.hdr[4:])
		if length < 12 {
			return fmt.Errorf("pcapng block %d (type 0x%08x): length %d is less than the minimum 12", g.blocks, typ, length)
		}
		bodyLen := int64(length) - 8 // body, options and the trailing length
		switch typ {
		case blockEPB, blockSPB, blockOPB, blockIDB:
		default:
			// Statistics, name resolution, decryption secrets, custom and
			// unknown blocks: skipped without reading them into memory.
			if n, err := g.r.Discard(int(bodyLen)); err != nil {
				if errors.Is(err, io.EOF) {
					return &cutError{num: g.num + 1, got: n + 8, want: int(length), what: fmt.Sprintf("block %d (type 0x%08x)", g.blocks, typ)}
				}
				return err
			}
			continue
		}
		if length > maxBlockLen {
			return fmt.Errorf("pcapng block %d (type 0x%08x): length %d exceeds the limit of %d bytes (corrupt file?)", g.blocks, typ, length, maxBlockLen)
		}
		isPacket := typ != blockIDB
		if isPacket {
			g.num++
		}
		g.buf = grow(g.buf, int(bodyLen))
		if n, err := io.ReadFull(g.r, g.buf); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				what := "interface description block"
				if isPacket {
					what = "packet block"
				}
				return &cutError{num: g.num + 1 - b2i(isPacket), got: n + 8, want: int(length), what: what}
			}
			return err
		}
		body := g.buf[:bodyLen-4]
		if trail := g.order.Uint32(g.buf[bodyLen-4:]); trail != length {
			return fmt.Errorf("pcapng block %d: trailing length %d does not match the leading %d (corrupt file?)", g.blocks, trail, length)
		}
		switch typ {
		case blockIDB:
			if err := g.iface(body); err != nil {
				return err
			}
			continue
		case blockEPB:
			return g.epb(pk, body)
		case blockOPB:
			return g.opb(pk, body)
		default:
			return g.spb(pk, body)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// section reads a section header block whose type was read into g.hdr.
func (g *ngReader) section() error {
	n, err := io.ReadFull(g.r, g.hdr[8:12])
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &cutError{num: g.num + 1, got: 8 + n, want: 12, what: "section header block"}
		}
		return err
	}
	switch binary.BigEndian.Uint32(g.hdr[8:]) {
	case byteOrderBOM:
		g.order = binary.BigEndian
	case bits.ReverseBytes32(byteOrderBOM):
		g.order = binary.LittleEndian
	default:
		return fmt.Errorf("pcapng block %d: section header with an invalid byte-order magic %x", g.blocks, g.hdr[8:12])
	}
	length := g.order.Uint32(g.hdr[4:])
	if length < 28 || length > maxBlockLen {
		return fmt.Errorf("pcapng block %d: section header length %d is out of range", g.blocks, length)
	}
	g.buf = grow(g.buf, int(length)-12)
	if n, err := io.ReadFull(g.r, g.buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &cutError{num: g.num + 1, got: 12 + n, want: int(length), what: "section header block"}
		}
		return err
	}
	if major := g.order.Uint16(g.buf); major != 1 {
		return fmt.Errorf("pcapng block %d: unsupported pcapng version %d.%d (want 1.0)", g.blocks, major, g.order.Uint16(g.buf[2:]))
	}
	if trail := g.order.Uint32(g.buf[len(g.buf)-4:]); trail != length {
		return fmt.Errorf("pcapng block %d: trailing length %d does not match the leading %d (corrupt file?)", g.blocks, trail, length)
	}
	g.started = true
	g.ifaces = g.ifaces[:0]
	return nil
}

// iface reads an interface description block body.
func (g *ngReader) iface(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("pcapng block %d: interface description of %d bytes is too short", g.blocks, len(b))
	}
	ifc := ngInterface{link: uint32(g.order.Uint16(b)), snapLen: g.order.Uint32(b[4:]), exp: 6}
	g.options(b[8:], func(code uint16, v []byte) {
		switch code {
		case 9: // if_tsresol
			if len(v) >= 1 {
				ifc.pow2, ifc.exp = v[0]&0x80 != 0, v[0]&0x7F
			}
		case 14: // if_tsoffset
			if len(v) >= 8 {
				ifc.offset = int64(g.order.Uint64(v))
			}
		}
	})
	if len(g.ifaces) >= 1<<16 {
		return fmt.Errorf("pcapng block %d: more than 65536 interfaces in one section", g.blocks)
	}
	g.ifaces = append(g.ifaces, ifc)
	return nil
}

// options walks a pcapng option list (code, length, value padded to 32
// bits), stopping at opt_endofopt or at the end of b.
func (g *ngReader) options(b []byte, f func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, n := g.order.Uint16(b), int(g.order.Uint16(b[2:]))
		if code == 0 || 4+n > len(b) {
			return
		}
		f(code, b[4:4+n])
		b = b[min(len(b), 4+(n+3)&^3):]
	}
}

func (g *ngReader) epb(pk *packet, b []byte) error {
	if len(b) < 20 {
		return fmt.Errorf("packet %d: enhanced packet block of %d bytes is too short", g.num, len(b))
	}
	id := g.order.Uint32(b)
	ts := uint64(g.order.Uint32(b[4:]))<<32 | uint64(g.order.Uint32(b[8:]))
	return g.packet(pk, id, ts, g.order.Uint32(b[12:]), g.order.Uint32(b[16:]), b[20:])
}

func (g *ngReader) opb(pk *packet, b []byte) error {
	if len(b) < 20 {
		return fmt.Errorf("packet %d: packet block of %d bytes is too short", g.num, len(b))
	}
	id := uint32(g.order.Uint16(b))
	ts := uint64(g.order.Uint32(b[4:]))<<32 | uint64(g.order.Uint32(b[8:]))
	return g.packet(pk, id, ts, g.order.Uint32(b[12:]), g.order.Uint32(b[16:]), b[20:])
}

func (g *ngReader) packet(pk *packet, id uint32, ts uint64, capLen, origLen uint32, data []byte) error {
	if int(id) >= len(g.ifaces) {
		return fmt.Errorf("packet %d: interface %d is not described (the section has %d)", g.num, id, len(g.ifaces))
	}
	if uint64(capLen) > uint64(len(data)) {
		return fmt.Errorf("packet %d: captured length %d exceeds its block (%d bytes)", g.num, capLen, len(data))
	}
	ifc := &g.ifaces[id]
	g.lastTS = ifc.time(ts)
	*pk = packet{num: g.num, ts: g.lastTS, link: ifc.link, data: data[:capLen], origLen: origLen}
	return nil
}

func (g *ngReader) spb(pk *packet, b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("packet %d: simple packet block of %d bytes is too short", g.num, len(b))
	}
	if len(g.ifaces) == 0 {
		return fmt.Errorf("packet %d: simple packet block without an interface description", g.num)
	}
	ifc := &g.ifaces[0]
	origLen := g.order.Uint32(b)
	capLen := min(uint64(origLen), uint64(len(b)-4))
	if ifc.snapLen > 0 {
		capLen = min(capLen, uint64(ifc.snapLen))
	}
	// A simple packet block has no timestamp: it inherits the last one.
	*pk = packet{num: g.num, ts: g.lastTS, link: ifc.link, data: b[4 : 4+capLen], origLen: origLen}
	return nil
}

// time converts a pcapng timestamp in the interface's resolution.
func (ifc *ngInterface) time(ts uint64) time.Time {
	var sec, nsec uint64
	if ifc.pow2 {
		e := min(uint(ifc.exp), 63)
		sec = ts >> e
		frac := ts & (1<<e - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		nsec, _ = bits.Div64(hi, lo, 1<<e)
	} else {
		e := min(int(ifc.exp), 19)
		div := uint64(1)
		for range e {
			div *= 10
		}
		sec = ts / div
		frac := ts % div
		hi, lo := bits.Mul64(frac, 1e9)
		nsec, _ = bits.Div64(hi, lo, div)
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec))
}

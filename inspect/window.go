package inspect

import (
	"encoding/binary"
	mathbits "math/bits"
)

// windowDeflater compresses within an LZ77 window smaller than the 32 KiB
// compress/flate always uses, for a peer that agreed a *_max_window_bits
// below 15 (RFC 7692 section 7.1.2): no back-reference reaches farther
// than 2^windowBits bytes, across messages too when the context is kept.
// It is greedy LZ77 with one hash candidate per position, written as one
// fixed-Huffman block (RFC 1951 section 3.2.6), or as stored blocks when
// those are smaller (data that does not compress).
type windowDeflater struct {
	window int // 2^windowBits: the farthest a back-reference may reach
	// win is the context kept from earlier messages (at most window
	// bytes) followed by the message being compressed.
	win []byte
	// base is the stream position of win[0]: table holds stream
	// positions, so sliding win or dropping the context never needs the
	// table cleared (a position before base is no candidate).
	base  int64
	table []int64 // hash of 4 bytes -> stream position + 1 of their last occurrence; 0 is none
	bw    bitWriter
}

const (
	windowHashBits = 14
	minMatch       = 4 // what the hash covers; DEFLATE allows 3
	maxMatch       = 258
	maxStored      = 65535 // bytes in one stored block
)

func newWindowDeflater(windowBits int) *windowDeflater {
	return &windowDeflater{window: 1 << windowBits, table: make([]int64, 1<<windowHashBits)}
}

// deflate returns p compressed, ended by the sync flush's empty stored
// block without its 00 00 ff ff (RFC 7692 section 7.2.1), valid until
// the next call. With takeover, the last window bytes of p stay for the
// next message to refer to.
func (z *windowDeflater) deflate(p []byte, takeover bool) []byte {
	if !takeover {
		z.base += int64(len(z.win))
		z.win = z.win[:0]
	}
	if cap(z.win) > 4<<20 && len(z.win)+len(p) < 1<<20 {
		z.win = append([]byte(nil), z.win...) // do not keep a huge message's buffer
	}
	start := len(z.win)
	z.win = append(z.win, p...)
	z.bw.reset()
	if len(p) > 0 {
		z.bw.put(2, 3) // BFINAL 0, BTYPE 01: fixed Huffman codes
		z.lz77(start)
		z.bw.putLit(endOfBlock)
	}
	z.bw.put(0, 3) // the sync flush's empty stored block: BFINAL 0, BTYPE 00,
	z.bw.flush()   // padded to a byte; its LEN and NLEN are what is removed
	out := z.bw.out
	if stored := storedSize(len(p)); len(out) > stored {
		out = appendStored(z.bw.out[:0], p)
		z.bw.out = out
	}
	if takeover && len(z.win) > z.window {
		drop := len(z.win) - z.window
		z.win = z.win[:copy(z.win, z.win[drop:])]
		z.base += int64(drop)
	}
	return out
}

// lz77 writes win[start:] as literals and back-references of at most
// z.window bytes.
func (z *windowDeflater) lz77(start int) {
	win, w := z.win, &z.bw
	lit := start // first byte not yet written
	misses := 0
	for i := start; i+minMatch <= len(win); {
		h := hash4(win[i:])
		cand := int(z.table[h] - 1 - z.base)
		z.table[h] = z.base + int64(i) + 1
		if cand < 0 || i-cand > z.window || binary.LittleEndian.Uint32(win[cand:]) != binary.LittleEndian.Uint32(win[i:]) {
			// Skip faster through data that does not repeat.
			misses++
			i += 1 + misses>>5
			continue
		}
		misses = 0
		n := minMatch
		for limit := min(maxMatch, len(win)-i); n < limit && win[cand+n] == win[i+n]; n++ {
		}
		w.literals(win[lit:i])
		w.match(n, i-cand)
		for j := i + 1; j < i+n && j+minMatch <= len(win); j++ {
			z.table[hash4(win[j:])] = z.base + int64(j) + 1
		}
		i += n
		lit = i
	}
	w.literals(win[lit:])
}

func hash4(b []byte) uint32 {
	return (binary.LittleEndian.Uint32(b) * 0x1e35a7bd) >> (32 - windowHashBits)
}

// storedSize is the length of n bytes as stored blocks, with the sync
// flush's empty block after them (its header byte kept, as above).
func storedSize(n int) int {
	return n + 5*((n+maxStored-1)/maxStored) + 1
}

// appendStored writes p as non-final stored blocks (RFC 1951 section
// 3.2.4), then the header byte of the sync flush's empty one.
func appendStored(out, p []byte) []byte {
	for len(p) > 0 {
		n := min(len(p), maxStored)
		out = append(out, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		out = append(out, p[:n]...)
		p = p[n:]
	}
	return append(out, 0)
}

// bitWriter packs DEFLATE's bit stream: values least significant bit
// first, Huffman codes already bit-reversed (RFC 1951 section 3.1.1).
type bitWriter struct {
	out  []byte
	bits uint64
	n    uint
}

func (w *bitWriter) reset() {
	if cap(w.out) > 4<<20 {
		w.out = nil // do not keep a huge message's buffer
	}
	w.out, w.bits, w.n = w.out[:0], 0, 0
}

// put appends the low n (at most 16) bits of v.
func (w *bitWriter) put(v uint16, n uint) {
	w.bits |= uint64(v) << w.n
	w.n += n
	if w.n >= 48 {
		n := len(w.out)
		w.out = binary.LittleEndian.AppendUint64(w.out, w.bits)[:n+6] // 6 whole bytes
		w.bits >>= 48
		w.n -= 48
	}
}

// flush writes the bits left, the last byte padded with zeros.
func (w *bitWriter) flush() {
	for ; w.n > 0; w.n -= min(w.n, 8) {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
	}
}

func (w *bitWriter) literals(p []byte) {
	for _, c := range p {
		w.put(fixedLit[c].code, uint(fixedLit[c].len))
	}
}

// match writes a back-reference: length 3..258 and distance 1..32768 as
// their codes and extra bits (RFC 1951 section 3.2.5).
func (w *bitWriter) match(length, dist int) {
	l := length - 3
	switch {
	case l < 8:
		w.putLit(257 + l)
	case l == 255:
		w.putLit(285)
	default:
		nb := mathbits.Len(uint(l)) - 1 // 3..7
		w.putLit(257 + 4*(nb-1) + (l>>(nb-2))&3)
		w.put(uint16(l&(1<<(nb-2)-1)), uint(nb-2))
	}
	d := dist - 1
	if d < 4 {
		w.put(fixedDist[d], 5)
		return
	}
	nb := mathbits.Len(uint(d)) - 1 // 2..14
	w.put(fixedDist[2*nb+(d>>(nb-1))&1], 5)
	w.put(uint16(d&(1<<(nb-1)-1)), uint(nb-1))
}

func (w *bitWriter) putLit(sym int) { w.put(fixedLit[sym].code, uint(fixedLit[sym].len)) }

const endOfBlock = 256

type huffCode struct {
	code uint16 // bit-reversed, ready for bitWriter.put
	len  uint8
}

// fixedLit and fixedDist are the fixed Huffman codes of RFC 1951 section
// 3.2.6.
var fixedLit, fixedDist = fixedCodes()

func fixedCodes() (lit [288]huffCode, dist [30]uint16) {
	for s := range lit {
		var c uint16
		var n uint8
		switch {
		case s < 144:
			c, n = uint16(0x30+s), 8
		case s < 256:
			c, n = uint16(0x190+s-144), 9
		case s < 280:
			c, n = uint16(s-256), 7
		default:
			c, n = uint16(0xc0+s-280), 8
		}
		lit[s] = huffCode{mathbits.Reverse16(c) >> (16 - n), n}
	}
	for d := range dist {
		dist[d] = mathbits.Reverse16(uint16(d)) >> 11
	}
	return lit, dist
}

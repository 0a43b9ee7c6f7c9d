package inspect

import (
	"bytes"
	"compress/flate"
)

// Deflater compresses the permessage-deflate messages we send (RFC 7692
// section 7.2.1). With the 32 KiB window (15 bits) it uses compress/flate
// at Level; with a smaller window agreed for our direction it uses
// windowDeflater, as compress/flate cannot bound its window. Huffman-only output (Level -2) refers to nothing, so
// it fits every window.
type Deflater struct {
	// Takeover keeps the compression context from one message to the
	// next: false when *_no_context_takeover was agreed for our side.
	Takeover bool
	// Level is the compress/flate level; 0 means flate.DefaultCompression.
	Level int
	// WindowBits is the *_max_window_bits agreed for our direction
	// (8..15, section 7.1.2): no back-reference reaches farther than
	// 2^WindowBits bytes. 0 means 15.
	WindowBits int

	fw  *flate.Writer
	buf bytes.Buffer
	win *windowDeflater
}

// Deflate returns p compressed, without the trailing 00 00 ff ff, valid
// until the next call.
func (d *Deflater) Deflate(p []byte) ([]byte, error) {
	if d.WindowBits > 0 && d.WindowBits < 15 && d.Level != flate.HuffmanOnly {
		if d.win == nil {
			d.win = newWindowDeflater(d.WindowBits)
		}
		return d.win.deflate(p, d.Takeover), nil
	}
	d.buf.Reset()
	switch {
	case d.fw == nil:
		level := d.Level
		if level == 0 {
			level = flate.DefaultCompression
		}
		fw, err := flate.NewWriter(&d.buf, level)
		if err != nil {
			return nil, err
		}
		d.fw = fw
	case !d.Takeover:
		d.fw.Reset(&d.buf)
	}
	if _, err := d.fw.Write(p); err != nil {
		return nil, err
	}
	if err := d.fw.Flush(); err != nil {
		return nil, err
	}
	out := d.buf.Bytes()
	if bytes.HasSuffix(out, deflateTail[:4]) {
		out = out[:len(out)-4]
	}
	if len(out) == 0 {
		out = append(out, 0x00) // section 7.2.3.6
	}
	return out, nil
}

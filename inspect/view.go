package inspect

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// This file holds the payload views: pure functions from bytes to strings
// that are safe to write to a terminal. None of them panics, whatever the
// input.

// TextView returns p as text that is safe to print on a terminal: newlines
// and tabs are kept, every other control character (C0, DEL, C1) and every
// byte that is not part of valid UTF-8 is shown as an escape ("\x00",
// "\x1b", "\xff", "\u009b"), and so are the bidirectional overrides and the
// line and paragraph separators, which would reorder or break the lines
// around them. A backslash in p is shown as it is, so the escapes are for
// reading, not for decoding: the hex dump is the exact view.
func TextView(p []byte) string {
	i := 0
	for i < len(p) && safeASCII(p[i]) {
		i++
	}
	if i == len(p) {
		return string(p)
	}
	b := make([]byte, 0, len(p)+len(p)/8+8)
	b = append(b, p[:i]...)
	for i < len(p) {
		var n int
		b, n = appendTextUnit(b, p[i:])
		i += n
	}
	return string(b)
}

// safeASCII reports whether c is printable ASCII, a newline or a tab.
func safeASCII(c byte) bool { return (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\t' }

// appendTextUnit appends the terminal-safe form of the rune or invalid
// byte at the start of p (len(p) > 0) and returns how many bytes of p it
// consumed. Every unit appends at least one rune.
func appendTextUnit(b, p []byte) ([]byte, int) {
	c := p[0]
	if c < utf8.RuneSelf {
		if safeASCII(c) {
			return append(b, c), 1
		}
		return appendByteEscape(b, c), 1
	}
	r, size := utf8.DecodeRune(p)
	if r == utf8.RuneError && size == 1 {
		return appendByteEscape(b, c), 1
	}
	if unsafeRune(r) {
		b = append(b, `\u`...)
		for shift := 12; shift >= 0; shift -= 4 {
			b = append(b, hexDigits[(r>>shift)&0xF])
		}
		return b, size
	}
	return append(b, p[:size]...), size
}

func appendByteEscape(b []byte, c byte) []byte {
	return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xF])
}

// unsafeRune reports whether a valid non-ASCII rune must not reach a
// terminal as it is: C1 controls, bidirectional formatting characters, and
// the Unicode line and paragraph separators. All of them are in the BMP.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9F: // C1 controls, e.g. U+009B CSI
		return true
	case r == 0x061C, r == 0x200E, r == 0x200F: // ALM, LRM, RLM
		return true
	case r >= 0x202A && r <= 0x202E: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// PrettyJSON returns p indented with two spaces when p is valid JSON, and
// ok=false otherwise. Object keys keep their order, numbers their spelling.
// The result goes through TextView, so a string that holds invalid UTF-8 or
// a terminal control character is shown escaped rather than raw (and the
// result is then no longer strictly JSON).
func PrettyJSON(p []byte) (string, bool) {
	p = bytes.TrimSpace(p)
	if len(p) == 0 || !json.Valid(p) {
		return "", false
	}
	var out bytes.Buffer
	out.Grow(len(p) + len(p)/2)
	if err := json.Indent(&out, p, "", "  "); err != nil {
		return "", false
	}
	return TextView(out.Bytes()), true
}

// HexDump returns p in the layout of `hexdump -C`: on each line an offset,
// 16 bytes in hex with an extra space after the eighth, and the same bytes
// as ASCII between bars, non-printable ones as '.'. Every line ends with a
// newline; an empty p gives "".
func HexDump(p []byte) string {
	return hex.Dump(p)
}

// Summary returns a one-line preview of a payload sent with opcode op, at
// most limit runes long (at least 1):
//
//   - an empty payload is "(empty)";
//   - text is collapsed to one line, a newline shown as ⏎ and a tab as a
//     space, unsafe characters escaped as in TextView, and cut with "…";
//   - a close body is its code and name, then the reason, e.g.
//     "1000 Normal Closure: bye";
//   - binary is its size and its first bytes in hex, e.g.
//     "[binary 1024 B] 00 01 02 …" (the bracket is always shown, even when
//     it alone is longer than limit).
//
// Ping, pong, continuation and reserved payloads are shown as text when
// they look like text, as bytes otherwise. The work done is bounded by limit,
// not by len(p).
func Summary(p []byte, op OpCode, limit int) string {
	if len(p) == 0 {
		return "(empty)"
	}
	limit = min(max(limit, 1), 1<<20)
	switch {
	case op == OpText:
		return summaryText(nil, p, limit)
	case op == OpClose:
		if len(p) < 2 {
			return summaryBytes(p, op.String(), limit)
		}
		// Not ParseClose: it copies the whole reason.
		code := CloseCode(binary.BigEndian.Uint16(p))
		b := append(strconv.AppendUint(nil, uint64(code), 10), ' ')
		b = append(b, code.Name()...)
		if len(p) == 2 {
			return summaryText(nil, b, limit)
		}
		b = append(b, ':', ' ')
		if n := utf8.RuneCount(b); n < limit {
			return summaryText(b, p[2:], limit-n)
		}
		return summaryText(nil, b, limit)
	case op != OpBinary && looksLikeText(p[:min(len(p), 4*limit+utf8.UTFMax)]):
		return summaryText(nil, p, limit)
	}
	return summaryBytes(p, op.String(), limit)
}

// summaryText appends to prefix at most limit runes showing p on one line.
func summaryText(prefix, p []byte, limit int) string {
	b := prefix
	n := 0    // runes appended after prefix
	cut := -1 // len(b) when n last was at most limit-1
	i := 0
	for i < len(p) {
		if n <= limit-1 {
			cut = len(b)
		}
		start := len(b)
		switch c := p[i]; c {
		case '\n':
			b = append(b, "⏎"...)
			i++
		case '\t':
			b = append(b, ' ')
			i++
		default:
			var size int
			b, size = appendTextUnit(b, p[i:])
			i += size
		}
		n += utf8.RuneCount(b[start:])
		if n > limit {
			return string(append(b[:cut], "…"...))
		}
	}
	return string(b)
}

// summaryBytes shows what p is (an opcode's name, "deflated"), its size,
// and as many of its first bytes in hex as fit in limit runes.
func summaryBytes(p []byte, what string, limit int) string {
	b := append(make([]byte, 0, 24+limit), '[')
	b = append(b, what...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(p)), 10)
	b = append(b, " B]"...)
	avail := limit - len(b) // the prefix is ASCII
	k := len(p)
	if avail < 3*k {
		k = max(0, (avail-2)/3) // leave room for " …"
	}
	for _, c := range p[:k] {
		b = append(b, ' ', hexDigits[c>>4], hexDigits[c&0xF])
	}
	if k < len(p) {
		b = append(b, " …"...)
	}
	return string(b)
}

// looksLikeText reports whether p, a prefix of a payload, is UTF-8 (a
// rune cut at the end is allowed) without control characters other than
// newline, carriage return and tab.
func looksLikeText(p []byte) bool {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			return len(p)-i < utf8.UTFMax && !utf8.FullRune(p[i:])
		}
		if r <= 0x9F { // C1 control
			return false
		}
		i += size
	}
	return true
}

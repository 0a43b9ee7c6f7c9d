package inspect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are well-formed and malformed streams to start the fuzzers from.
func fuzzSeeds() [][]byte {
	return [][]byte{
		{},
		client(true, OpText, "hello"),
		server(true, OpText, "hello"),
		cat(client(false, OpText, "Hel"), client(true, OpPing, "p"), client(true, OpContinuation, "lo")),
		cat(server(false, OpText, "\xe4"), server(true, OpContinuation, "\xb8\x96")),
		server(true, OpBinary, string(make([]byte, 300))),
		wire(Header{Fin: true, Op: OpBinary, LenEnc: Len64}, []byte("x")),
		client(true, OpClose, string(AppendClose(nil, CloseNormal, "bye"))),
		server(true, OpClose, "\x03"),
		server(true, OpClose, "\x03\xed\xff"),
		wire(Header{Fin: true, Rsv: Rsv1, Op: OpText}, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),
		bits("1 000 0010 0 1111111 10000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001"),
		bits("1 000 0010 0 1111111 00000000 00000000 00000001 00000000 00000000 00000000 00000000 00000000"),
		bits("1 000 0001 1 0000101 00110111"),
		bits("0 111 1101 0 1111110 00000000 00000001 00000000"),
		cat(server(true, OpContinuation, "x"), server(false, OpText, "a"), server(true, OpBinary, "b")),
	}
}

// fuzzReader is reused across FuzzDecode runs (a worker runs one input at
// a time), so a run costs what its input costs, not a fresh 64 KiB buffer.
var fuzzReader = bufio.NewReaderSize(nil, 64<<10)

// FuzzDecode runs arbitrary bytes through a Decoder and an Assembler until
// the first error, and checks what they produce: no panic, headers that
// re-encode to their raw bytes, payloads of the announced size, JSON that
// is valid, views that do not panic.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, false, false)
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, fromClient, deflate bool) {
		dir := ServerToClient
		if fromClient {
			dir = ClientToServer
		}
		fuzzReader.Reset(bytes.NewReader(data))
		d := NewDecoder(fuzzReader, dir)
		d.MaxFrameSize = 1 << 20
		a := &Assembler{Dir: dir, Deflate: deflate, MaxMessageSize: 1 << 20}
		var fr Frame
		consumed := 0
		for seq := uint64(1); ; seq++ {
			err := d.Next(&fr)
			if err != nil {
				var te *TruncatedError
				var tl *TooLargeError
				switch {
				case err == io.EOF:
					if consumed != len(data) {
						t.Fatalf("io.EOF after %d of %d bytes", consumed, len(data))
					}
				case errors.As(err, &te):
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("%v does not wrap io.ErrUnexpectedEOF", err)
					}
					if !te.InHeader {
						rest := data[consumed+len(fr.Raw):]
						if uint64(len(rest)) != te.Got || !bytes.Equal(fr.MaskedPayload(), rest) {
							t.Fatalf("truncated payload %d bytes (%+v), %d arrived", len(fr.Payload), te, len(rest))
						}
					}
				case errors.As(err, &tl):
					if tl.Size <= tl.Limit || fr.Length != tl.Size {
						t.Fatalf("%+v for a header of length %d", tl, fr.Length)
					}
				default:
					t.Fatalf("unexpected error %T %v", err, err)
				}
				return
			}
			fr.Seq = seq
			if uint64(len(fr.Payload)) != fr.Length {
				t.Fatalf("payload %d bytes, header says %d", len(fr.Payload), fr.Length)
			}
			if !bytes.Equal(AppendHeader(nil, fr.Header), fr.Raw) {
				t.Fatalf("header %+v re-encodes to % x, raw % x", fr.Header, AppendHeader(nil, fr.Header), fr.Raw)
			}
			if got, want := fr.MaskedPayload(), data[consumed+len(fr.Raw):consumed+fr.WireLen()]; !bytes.Equal(got, want) {
				t.Fatalf("masked payload differs from the wire")
			}
			consumed += fr.WireLen()
			m, err := a.Add(&fr)
			Summary(fr.Payload, fr.Op, 40)
			if err != nil {
				var tl *TooLargeError
				if !errors.As(err, &tl) {
					t.Fatalf("Add: %v", err)
				}
				return
			}
			if m != nil {
				if !m.Deflated && m.Op == OpText && utf8.Valid(m.Payload) != (len(m.Violations) == 0) {
					t.Fatalf("text message %q with violations %v", m.Payload, m.Violations)
				}
				TextView(m.Payload)
				PrettyJSON(m.Payload)
				Summary(m.Payload, m.Op, 40)
			}
		}
	})
}

// FuzzParseHeader checks that ParseHeader and AppendHeader are inverses:
// bytes → header → the same bytes, and header → bytes → the same header;
// with LenEnc cleared, AppendHeader picks the minimal form.
func FuzzParseHeader(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	for _, tt := range headerTests {
		f.Add(tt.wire)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := ParseHeader(data)
		if err != nil {
			if !errors.Is(err, ErrShortHeader) || n != 0 {
				t.Fatalf("ParseHeader: n=%d err=%v", n, err)
			}
			if len(data) >= 2 && len(data) >= HeaderSize(data[1]) {
				t.Fatalf("ErrShortHeader with %d bytes for a %d-byte header", len(data), HeaderSize(data[1]))
			}
			return
		}
		if n != HeaderSize(data[1]) || n != h.Size() || n > MaxHeaderSize {
			t.Fatalf("n=%d HeaderSize=%d Size=%d", n, HeaderSize(data[1]), h.Size())
		}
		b := AppendHeader(nil, h)
		if !bytes.Equal(b, data[:n]) {
			t.Fatalf("AppendHeader(ParseHeader(% x)) = % x", data[:n], b)
		}
		h2, n2, err := ParseHeader(b)
		if err != nil || n2 != n || h2 != h {
			t.Fatalf("ParseHeader(AppendHeader(%+v)) = %+v, %d, %v", h, h2, n2, err)
		}
		if h.LenEnc == Len64 && h.Length>>63 != 0 {
			return // no minimal form for a length the RFC forbids
		}
		minimal := h
		minimal.LenEnc = 0
		h3, _, err := ParseHeader(AppendHeader(nil, minimal))
		want := h
		want.LenEnc = MinimalLengthEncoding(h.Length)
		if err != nil || h3 != want {
			t.Fatalf("minimal form of %+v parsed as %+v, %v", h, h3, err)
		}
	})
}

// FuzzAppendJSONString checks that every string comes out as valid JSON
// that decodes back to it, invalid UTF-8 bytes as U+FFFD.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\/\b\f\n\r\t", "\x00\x1f\x7f", "é世🎉", "\u2028\u2029", "\xff", "\xe4\xb8", "\xed\xa0\x80", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendJSONString([]byte("prefix"), s)
		if string(out[:6]) != "prefix" {
			t.Fatal("prefix clobbered")
		}
		out = out[6:]
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q for %q", out, s)
		}
		if !utf8.Valid(out) || bytes.ContainsAny(out, "\u2028\u2029") {
			t.Fatalf("unsafe output %q", out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s))
		}
		if back != want {
			t.Fatalf("%q decodes to %q", s, back)
		}
		if b := AppendJSONBytes(nil, []byte(s)); !bytes.Equal(b, out) {
			t.Fatalf("AppendJSONBytes %q, AppendJSONString %q", b, out)
		}
	})
}

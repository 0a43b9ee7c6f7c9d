package pcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// deflateSession negotiates permessage-deflate with the given response
// parameters and lets build send frames.
func deflateSession(params string, build func(f *flow)) []byte {
	f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
	f.syn()
	f.send(true, []byte(upgradeRequest))
	f.send(false, []byte(upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate"+params+"\r\n")))
	build(f)
	return pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, f.pkts...))
}

// msgs returns the msg events and errors of a read, as summary lines.
func msgsAndErrors(t *testing.T, b []byte, opts Options) []string {
	t.Helper()
	var out []string
	for _, s := range read(t, b, opts) {
		if strings.Contains(s, " msg ") || strings.Contains(s, " error ") || strings.Contains(s, " gap ") {
			out = append(out, s)
		}
	}
	return out
}

func TestDeflateContextTakeover(t *testing.T) {
	// Go's compressor keeping its context: the second and third messages
	// refer back into the first; the third is also fragmented. The server
	// resets its context per message.
	long := strings.Repeat("the quick brown fox jumps over the lazy dog ", 50)
	for _, tc := range []struct {
		name     string
		params   string
		takeover [2]bool
	}{
		{"both-keep", "", [2]bool{true, true}},
		{"server-resets", "; server_no_context_takeover", [2]bool{true, false}},
		{"client-resets", "; client_no_context_takeover", [2]bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cz, sz := newDeflater(tc.takeover[0]), newDeflater(tc.takeover[1])
			var sizes []int
			file := deflateSession(tc.params, func(f *flow) {
				for i, m := range []string{long, long + "!", "again: " + long} {
					c := cz.compress([]byte(m))
					sizes = append(sizes, len(c))
					if i == 2 {
						half := len(c) / 2
						f.send(true, append(wsFrame(false, 0b100, inspect.OpText, true, c[:half]),
							wsFrame(true, 0, inspect.OpContinuation, true, c[half:])...))
					} else {
						f.send(true, wsFrame(true, 0b100, inspect.OpText, true, c))
					}
					f.send(false, wsFrame(true, 0b100, inspect.OpText, false, sz.compress([]byte(strings.ToUpper(m)))))
				}
			})
			got := msgsAndErrors(t, file, Options{})
			want := []string{
				fmt.Sprintf("1 msg c2s text %q [1] deflated(%d)", long, sizes[0]),
				fmt.Sprintf("1 msg s2c text %q [2]", strings.ToUpper(long)),
				fmt.Sprintf("1 msg c2s text %q [3] deflated(%d)", long+"!", sizes[1]),
				fmt.Sprintf("1 msg s2c text %q [4]", strings.ToUpper(long+"!")),
				fmt.Sprintf("1 msg c2s text %q [5 6] deflated(%d)", "again: "+long, sizes[2]),
				fmt.Sprintf("1 msg s2c text %q [7]", strings.ToUpper("again: "+long)),
			}
			for i := range got {
				// The server's sizes are not interesting here.
				if j := strings.Index(got[i], " deflated("); j > 0 && strings.Contains(got[i], " s2c ") {
					got[i] = got[i][:j]
				}
			}
			same(t, got, want)
			if kept := sizes[1] < sizes[0]/2; kept != tc.takeover[0] {
				t.Errorf("client compressor context kept=%v, want %v: sizes %v", kept, tc.takeover[0], sizes)
			}
		})
	}
}

func TestDeflateProblems(t *testing.T) {
	t.Run("zip-bomb", func(t *testing.T) {
		// 1 MiB of zeros in about a kilobyte, read with a 64 KiB limit:
		// dropped with an error, and the next message, which needs the
		// lost context, cannot be read either.
		z := newDeflater(true)
		file := deflateSession("", func(f *flow) {
			f.send(true, wsFrame(true, 0b100, inspect.OpBinary, true, z.compress(make([]byte, 1<<20))))
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte("after"))))
			f.send(false, wsFrame(true, 0, inspect.OpText, false, []byte("server still fine")))
		})
		same(t, msgsAndErrors(t, file, Options{MaxMessageSize: 64 << 10}), []string{
			"1 error c2s message of frames [1]: cannot decompress it: it inflates to more than the limit of 65536 bytes",
			"1 error c2s message of frames [2]: cannot decompress it: an earlier message could not be decompressed (it inflates to more than the limit of 65536 bytes), and the sender keeps its compression context",
			`1 msg s2c text "server still fine" [3]`,
		})
	})
	t.Run("zip-bomb-without-takeover", func(t *testing.T) {
		z := newDeflater(false)
		file := deflateSession("; client_no_context_takeover", func(f *flow) {
			f.send(true, wsFrame(true, 0b100, inspect.OpBinary, true, z.compress(make([]byte, 1<<20))))
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte("after"))))
		})
		same(t, msgsAndErrors(t, file, Options{MaxMessageSize: 64 << 10}), []string{
			"1 error c2s message of frames [1]: cannot decompress it: it inflates to more than the limit of 65536 bytes",
			`1 msg c2s text "after" [2] deflated(7)`,
		})
	})
	t.Run("corrupt-and-cut", func(t *testing.T) {
		z := newDeflater(false)
		good := z.compress([]byte("a message long enough to be cut in the middle of its block"))
		file := deflateSession("; client_no_context_takeover", func(f *flow) {
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, []byte{0xff, 0xff, 0xff}))
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, good[:len(good)/2]))
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, good))
		})
		got := msgsAndErrors(t, file, Options{})
		if len(got) != 3 || !strings.HasPrefix(got[0], "1 error c2s message of frames [1]: cannot decompress it: flate: corrupt input") ||
			got[1] != "1 error c2s message of frames [2]: cannot decompress it: the compressed data ends inside a block" ||
			!strings.HasPrefix(got[2], `1 msg c2s text "a message long enough`) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("empty-messages", func(t *testing.T) {
		// An empty message compressed: 0x00 (RFC 7692 section 7.2.3.6),
		// or no payload at all; the context goes on through both.
		z := newDeflater(true)
		file := deflateSession("", func(f *flow) {
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte("one"))))
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, []byte{0}))
			f.send(true, wsFrame(true, 0b100, inspect.OpBinary, true, nil))
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte("one"))))
		})
		same(t, msgsAndErrors(t, file, Options{}), []string{
			`1 msg c2s text "one" [1] deflated(5)`,
			`1 msg c2s text "" [2] deflated(1)`,
			`1 msg c2s binary "" [3] deflated(0)`,
			`1 msg c2s text "one" [4] deflated(5)`,
		})
	})
	t.Run("invalid-utf8-after-inflating", func(t *testing.T) {
		z := newDeflater(true)
		file := deflateSession("", func(f *flow) {
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte("bad \xff\xfe text"))))
		})
		same(t, msgsAndErrors(t, file, Options{}), []string{
			`1 msg c2s text "bad \xff\xfe text" [1] deflated(13) !text-invalid-utf8`,
		})
	})
	t.Run("rsv1-without-negotiation", func(t *testing.T) {
		// RSV1 means nothing without the extension: a violation, and the
		// payload is taken as it is.
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		f.send(true, wsFrame(true, 0b100, inspect.OpText, true, []byte("plain")))
		got := read(t, pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, f.pkts...)), Options{})
		same(t, got[1:3], []string{
			`1 frame 1 c2s text "plain" !rsv-without-extension`,
			`1 msg c2s text "plain" [1]`,
		})
	})
}

func TestSizeLimits(t *testing.T) {
	t.Run("frame-over-the-limit", func(t *testing.T) {
		// A frame announcing more than the limit stops its direction; the
		// other goes on.
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		f.send(true, clientText(strings.Repeat("x", 200)))
		f.send(true, clientText("never seen"))
		f.send(false, serverText("seen"))
		recs, err := collect(t, pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, f.pkts...)), Options{MaxMessageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		got := summary(recs)
		same(t, got[1:5], []string{
			`1 frame 1 c2s text ""`,
			"1 error c2s frame 1 announces 200 bytes of payload, over the limit of 100 bytes: the rest of this direction is not dissected",
			`1 frame 2 s2c text "seen"`,
			`1 msg s2c text "seen" [2]`,
		})
		if !strings.Contains(recs[1].json, `"len":200,"truncated":true`) {
			t.Errorf("frame %s", recs[1].json)
		}
	})
	t.Run("message-over-the-limit", func(t *testing.T) {
		f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
		f.syn()
		f.send(true, []byte(upgradeRequest))
		f.send(false, []byte(upgradeResponse("")))
		f.send(true, wsFrame(false, 0, inspect.OpText, true, bytes.Repeat([]byte("a"), 60)))
		f.send(true, wsFrame(true, 0, inspect.OpContinuation, true, bytes.Repeat([]byte("b"), 60)))
		f.send(true, clientText("next"))
		got := msgsAndErrors(t, pcapFile(binary.LittleEndian, false, linkRaw, packets(linkRaw, f.pkts...)), Options{MaxMessageSize: 100})
		same(t, got, []string{
			"1 error c2s message ending in frame 2 dropped: message of 120 bytes exceeds the limit of 100 bytes",
			`1 msg c2s text "next" [3]`,
		})
	})
}

// The dictionary is the last 32 KiB of output whatever the message sizes:
// messages larger than the window, many small ones, and everything in
// between, each referring back into the ones before.
func TestDeflateHistory(t *testing.T) {
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango")
	x := uint32(7)
	text := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			x = x*1664525 + 1013904223
			b.WriteString(words[x>>27%uint32(len(words))])
			fmt.Fprintf(&b, "%d ", x>>29)
		}
		return b.String()
	}
	var sent []string
	for _, n := range []int{40000, 100, 200, 5000, 70000, 30, 33000, 16000, 16000, 16000, 10} {
		sent = append(sent, text(n))
	}
	// Then random letters in small messages (the history slides several
	// times), each followed by a message that repeats what was sent
	// exactly 32 KiB before it: a match at the far end of the window.
	rng := rand.New(rand.NewSource(1))
	var all []byte
	for _, m := range sent {
		all = append(all, m...)
	}
	for i := range 41 {
		n := 2000 + i*37
		if i == 40 {
			n = 40000 // larger than the window
		}
		m := make([]byte, n)
		for j := range m {
			m[j] = 'a' + byte(rng.Intn(26))
		}
		all = append(all, m...)
		far := string(all[len(all)-(32<<10) : len(all)-(32<<10)+300])
		all = append(all, far...)
		sent = append(sent, string(m), far)
	}
	z := newDeflater(true)
	file := deflateSession("", func(f *flow) {
		for _, m := range sent {
			f.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte(m))))
		}
	})
	recs, err := collect(t, file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		switch r.ev.Kind {
		case inspect.KindMsg:
			got = append(got, string(r.ev.Msg.Payload))
		case inspect.KindError, inspect.KindGap:
			t.Fatal(r.json)
		}
	}
	if len(got) != len(sent) {
		t.Fatalf("%d messages, sent %d", len(got), len(sent))
	}
	for i := range sent {
		if got[i] != sent[i] {
			t.Errorf("message %d (%d bytes) differs", i, len(sent[i]))
		}
	}
}

package session

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
	tp "github.com/wscope/wscope/internal/testpeer"
	"github.com/wscope/wscope/internal/wire"
)

// Seeds: the lines of the recordings in testdata/, the help's examples,
// and the cases the send language refuses.
var (
	jsonSeeds = []string{
		`{"text":"hi"}`, `{"b64":"AAE="}`, `{"hex":"00 01"}`,
		`{"op":"ping","text":"x"}`, `{"op":"close","code":4000,"reason":"bye"}`,
		`{"text":"abcdef","fragment":2}`, `{"sleep":0.5}`, `{"sleep":0}`,
		`{"text":"short","len_enc":16,"fin":true}`, `{"op":"0x3","fin":true,"text":"reserved"}`,
		`{"text":"x","mask":"none","rsv1":true}`, `{"text":"five!","len_enc":64,"mask":"01020304"}`,
		`{"ev":"msg","dir":"c2s","op":"text","text":"from a recording"}`,
		`{"op":"close","fin":true,"code":4000,"reason":"` + strings.Repeat("r", 130) + `"}`,
		`{"text":"` + strings.Repeat("a", 200) + `","len_enc":7}`, `{"text":"x","len":70000,"len_enc":16}`,
		`{"text":"abc","len":10,"fin":true}`, `{"text":"x","len":18446744073709551615,"len_enc":64}`,
		`{"op":"close","code":70000}`, `{"op":"close","code":-1}`, `{"op":"close","code":65536}`,
		`{"text":"a","b64":"AA=="}`, `{"txt":"typo"}`, `{"sleep":-1}`, `{"sleep":1e300}`,
		`{"text":"x","masked":true}`, `{"text":"x","masked":false,"mask":"01020304"}`,
		`{"op":"close","close":{"code":1001,"reason":"away"}}`, `{"dir":"s2c","text":"x"}`,
	}
	slashSeeds = []string{
		"/ping", "/ping data", "/pong hi", "/close", "/close 4000 bye", "/close 0", "/close 4000 " + strings.Repeat("r", 124),
		"/binary 48 65 6c 6c 6f", "/binary 0x48:0x65", "/fragment 3 hello", "/help", "/?", "//text", "plain text",
		"/frame", "/frame fin=0 op=0x3 rsv=1,3 mask=none len=9 lenenc=64 hex=0001", "/frame op=close hex=03e8",
		"/frame lenenc=16 hi", "/frame mask=01020304 x", "/frame rsv1=1 rsv2=true op=15", "/frame len=2 hello",
		"/frame lenenc=7 " + strings.Repeat("a", 126), "/frame hex=00 text", "/frame notakey=1 fin=0",
	}
)

// addRecordingLines adds each line of the recordings in testdata/.
func addRecordingLines(f *testing.F, add func(line string)) {
	names, _ := filepath.Glob("../../testdata/*.wsrec.jsonl")
	if len(names) == 0 {
		f.Fatal("no recordings in testdata/")
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			add(line)
		}
	}
}

// checkParsed checks what a parser accepted: an action that the sender
// takes as it is, or an error of one bounded line.
func checkParsed(t *testing.T, a *action, err error) {
	t.Helper()
	if err != nil {
		if msg := err.Error(); strings.ContainsAny(msg, "\n") || len(msg) > 400 {
			t.Fatalf("error of %d bytes, not one short line: %.200q", len(msg), msg)
		}
		return
	}
	switch a.kind {
	case actMessage:
		if !a.op.IsData() || a.fragment < 0 {
			t.Fatalf("message %v", a)
		}
	case actControl:
		if a.op != inspect.OpPing && a.op != inspect.OpPong || len(a.payload) > 125 {
			t.Fatalf("control %v", a)
		}
	case actClose:
		if err := wire.CheckClose(a.code, a.reason); err != nil {
			t.Fatalf("close %v accepted: %v", a, err)
		}
	case actFrame:
		if err := a.frame.Check(); err != nil {
			t.Fatalf("frame %v accepted: %v", a, err)
		}
	case actSleep:
		if a.sleep < 0 {
			t.Fatalf("sleep %v", a.sleep)
		}
	}
}

func FuzzParseJSONAction(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s), false)
	}
	addRecordingLines(f, func(line string) { f.Add([]byte(line), true) })
	f.Fuzz(func(t *testing.T, line []byte, server bool) {
		dir := inspect.ClientToServer
		if server {
			dir = inspect.ServerToClient
		}
		var a action
		skip, err := parseJSONAction(&a, line, dir)
		if skip && err != nil {
			t.Fatalf("skipped with an error: %v", err)
		}
		if !skip {
			checkParsed(t, &a, err)
		}
	})
}

func FuzzParseTyped(f *testing.F) {
	for _, s := range slashSeeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("/binary 00ff"), true)
	f.Fuzz(func(t *testing.T, line []byte, binary bool) {
		if bytes.ContainsAny(line, "\n") {
			return // a line never holds one
		}
		var a action
		err := parseTyped(&a, line, binary)
		checkParsed(t, &a, err)
	})
}

// FuzzInputReader reads arbitrary input in each mode through a small
// buffer, so long lines, CRLF at a buffer's end and a missing final
// newline are all in reach. Lines mode is checked against a plain
// split; raw mode must give back every byte; the others what the parsers
// accept.
func FuzzInputReader(f *testing.F) {
	for _, s := range []string{"", "a\nb\n", "a\r\nb", "\n\n", "x\r\r\n", strings.Repeat("y", 40) + "\r\n" + strings.Repeat("z", 15) + "\r\n"} {
		f.Add([]byte(s), uint8(0), false, false, uint16(0), uint8(0), false)
		f.Add([]byte(s), uint8(0), false, false, uint16(15), uint8(0), true)
	}
	f.Add([]byte(strings.Join(jsonSeeds, "\n")), uint8(2), false, false, uint16(300), uint8(40), false)
	f.Add([]byte(strings.Join(jsonSeeds, "\r\n")), uint8(2), false, false, uint16(0), uint8(200), true)
	f.Add([]byte(strings.Join(slashSeeds, "\n")), uint8(0), false, true, uint16(100), uint8(10), false)
	f.Add([]byte("\x00\xff/ping\n"), uint8(1), true, true, uint16(1), uint8(0), false)
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, binary, slash bool, maxLine uint16, buf uint8, oneByte bool) {
		modes := []string{StdinLines, StdinRaw, StdinJSON}
		m := modes[int(mode)%len(modes)]
		var src io.Reader = bytes.NewReader(data)
		if oneByte {
			src = iotest.OneByteReader(src)
		}
		in := newInputReader(src, m, binary, slash, inspect.ClientToServer, int(maxLine))
		bufSize := 16 + int(buf)
		in.r = bufio.NewReaderSize(src, bufSize)
		var got []step
		var raw []byte
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("no io.EOF after %d steps on %d bytes", i, len(data))
			}
			a, err := in.next()
			if err == io.EOF {
				break
			}
			var ie *inputError
			if err != nil && !errors.As(err, &ie) {
				t.Fatalf("error %v (%T) from input that reads without error", err, err)
			}
			if maxLine > 0 && m != StdinRaw && cap(in.long) > 2*(int(maxLine)+bufSize+2)+64 {
				t.Fatalf("a line buffer of %d bytes under a limit of %d", cap(in.long), maxLine)
			}
			if err != nil {
				checkParsed(t, nil, err)
				got = append(got, step{err: "input: " + err.Error()})
				continue
			}
			if m == StdinRaw {
				if len(a.payload) == 0 || a.op != inspect.OpBinary {
					t.Fatalf("raw chunk %v", a)
				}
				raw = append(raw, a.payload...)
				continue
			}
			checkParsed(t, a, nil)
			c := *a
			c.payload = bytes.Clone(a.payload)
			got = append(got, step{a: c})
		}
		switch {
		case m == StdinRaw:
			if !bytes.Equal(raw, data) {
				t.Fatalf("raw chunks join to %d bytes, want the %d of input", len(raw), len(data))
			}
		case m == StdinLines && !slash:
			want := splitLines(data, int(maxLine), binary)
			if len(got) != len(want) {
				t.Fatalf("%d steps, want %d lines", len(got), len(want))
			}
			for i := range got {
				if (got[i].err == "") != (want[i].err == "") || got[i].err == "" && !sameAction(got[i].a, want[i].a) {
					t.Fatalf("line %d: got %v, want %v", i+1, got[i], want[i])
				}
			}
		}
	})
}

// splitLines is what lines mode must make of data: one message per line,
// its "\n" and one "\r" before it removed, a last line without "\n" kept,
// a line over maxLine refused.
func splitLines(data []byte, maxLine int, binary bool) []step {
	op := inspect.OpText
	if binary {
		op = inspect.OpBinary
	}
	var out []step
	lines := bytes.Split(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if maxLine > 0 && len(l) > maxLine {
			out = append(out, step{err: "too long"})
			continue
		}
		out = append(out, msgStep(op, string(l)))
	}
	return out
}

// pipeConn is a wscope Conn in role, opened over a net.Pipe with a peer
// written by hand, reporting to onEvent; wireBytes closes it and returns
// every byte it wrote after the handshake.
func pipeConn(t *testing.T, role inspect.Role, onEvent func(*inspect.Event)) (c *wire.Conn, wireBytes func() []byte) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	a.SetDeadline(time.Now().Add(10 * time.Second))
	b.SetDeadline(time.Now().Add(10 * time.Second))
	got := make(chan []byte, 1)
	cfg := wire.Config{OnEvent: onEvent}
	var err error
	if role == inspect.RoleClient {
		go func() {
			br := bufio.NewReader(b)
			key := ""
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					got <- nil
					return
				}
				if k, v, _ := strings.Cut(line, ":"); strings.EqualFold(k, "Sec-WebSocket-Key") {
					key = strings.TrimSpace(v)
				}
				if line == "\r\n" {
					break
				}
			}
			fmt.Fprintf(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", tp.AcceptKey(key))
			p, _ := io.ReadAll(br)
			got <- p
		}()
		u, _ := wire.ParseURL("ws://pipe/")
		dial := func(context.Context, string, string) (net.Conn, error) { return a, nil }
		c, _, err = wire.Dial(context.Background(), wire.DialOptions{URL: u, NetDial: dial, Timeout: 10 * time.Second}, cfg)
	} else {
		go func() {
			fmt.Fprint(b, "GET / HTTP/1.1\r\nHost: pipe\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
			br := bufio.NewReader(b)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					got <- nil
					return
				}
				if line == "\r\n" {
					break
				}
			}
			p, _ := io.ReadAll(br)
			got <- p
		}()
		c, _, err = wire.Accept(a, wire.AcceptOptions{Timeout: 10 * time.Second}, cfg)
	}
	if err != nil {
		t.Fatalf("handshake over a pipe: %v", err)
	}
	return c, func() []byte { c.Abort(); return <-got }
}

// FuzzSentAsSaid is the property of the send language: whatever a line
// asks for, once the parser accepts it, the bytes on the wire, the frame
// events and the recording written from them agree on every header field
// and the payload, and agree with what the parser built.
func FuzzSentAsSaid(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s, true, false)
		f.Add(s, true, true)
	}
	for _, s := range slashSeeds {
		f.Add(s, false, false)
		f.Add(s, false, true)
	}
	f.Fuzz(func(t *testing.T, line string, jsonLine, server bool) {
		role, dir := inspect.RoleClient, inspect.ClientToServer
		if server {
			role, dir = inspect.RoleServer, inspect.ServerToClient
		}
		var a action
		var err error
		if jsonLine {
			var skip bool
			skip, err = parseJSONAction(&a, []byte(line), dir)
			if skip {
				return
			}
		} else {
			if strings.Contains(line, "\n") {
				return
			}
			err = parseTyped(&a, []byte(line), false)
		}
		if err != nil || a.kind == actSleep || a.kind == actHelp {
			return
		}
		if a.kind == actMessage && a.fragment > 0 && len(a.payload)/a.fragment > 256 {
			return // many frames say nothing more than a few
		}
		var events []inspect.Event
		c, wireBytes := pipeConn(t, role, func(e *inspect.Event) {
			if e.Kind != inspect.KindFrame && e.Kind != inspect.KindMsg {
				return
			}
			ev := *e
			if e.Frame != nil {
				fr := *e.Frame
				fr.Payload, fr.Raw = bytes.Clone(fr.Payload), bytes.Clone(fr.Raw)
				fr.Violations = append([]inspect.Violation(nil), fr.Violations...)
				ev.Frame = &fr
			}
			if e.Msg != nil {
				m := *e.Msg
				m.Payload = bytes.Clone(m.Payload)
				m.Frames = append([]uint64(nil), m.Frames...)
				ev.Msg = &m
			}
			events = append(events, ev)
		})
		if err := a.apply(c); err != nil {
			t.Fatalf("%v accepted by the parser, refused by the sender: %v", a, err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		onWire := wireBytes()
		var frames []*inspect.Frame
		for _, e := range events {
			if e.Kind == inspect.KindFrame {
				frames = append(frames, e.Frame)
			}
		}
		if len(frames) == 0 {
			t.Fatalf("%v sent no frame", a)
		}
		if a.kind == actFrame {
			checkSpec(t, &a.frame, frames[0], role)
		}
		checkWire(t, onWire, dir, frames)
		checkRecording(t, events)
	})
}

// checkSpec compares the frame reported with the crafted frame asked for.
func checkSpec(t *testing.T, spec *wire.FrameSpec, f *inspect.Frame, role inspect.Role) {
	t.Helper()
	length, enc := uint64(len(spec.Payload)), spec.LenEnc
	if spec.Length != nil {
		length = *spec.Length
	}
	if enc == 0 {
		enc = inspect.MinimalLengthEncoding(length)
	}
	masked := spec.Mask == wire.MaskWith || spec.Mask == wire.MaskAuto && role == inspect.RoleClient
	switch {
	case f.Fin != spec.Fin || f.Rsv != spec.Rsv || f.Op != spec.Op:
		t.Fatalf("asked fin=%v rsv=%b op=%v, reported %v %b %v", spec.Fin, spec.Rsv, spec.Op, f.Fin, f.Rsv, f.Op)
	case f.Masked != masked || spec.Mask == wire.MaskWith && f.Mask != spec.Key:
		t.Fatalf("asked mask mode %d key %x, reported masked=%v key %x", spec.Mask, spec.Key, f.Masked, f.Mask)
	case f.Length != length || f.LenEnc != enc:
		t.Fatalf("asked len=%d in %d bits, reported %d in %d", length, enc, f.Length, f.LenEnc)
	case !bytes.Equal(f.Payload, spec.Payload):
		t.Fatalf("asked a payload of %d bytes, reported %d", len(spec.Payload), len(f.Payload))
	}
}

// checkWire decodes the bytes written and compares each frame with its
// event. A frame that announces more than it carries is the last one:
// its payload is what arrived before the end.
func checkWire(t *testing.T, onWire []byte, dir inspect.Direction, frames []*inspect.Frame) {
	t.Helper()
	d := inspect.NewDecoder(bytes.NewReader(onWire), dir)
	d.MaxFrameSize = 1 << 20
	for i, ev := range frames {
		var w inspect.Frame
		err := d.Next(&w)
		if err == io.EOF {
			t.Fatalf("the wire (%d bytes) holds %d frames, the events %d", len(onWire), i, len(frames))
		}
		switch {
		case w.Fin != ev.Fin || w.Rsv != ev.Rsv || w.Op != ev.Op:
			t.Fatalf("frame %d: reported fin=%v rsv=%b op=%v, on the wire %v %b %v", i, ev.Fin, ev.Rsv, ev.Op, w.Fin, w.Rsv, w.Op)
		case w.Masked != ev.Masked || w.Masked && w.Mask != ev.Mask:
			t.Fatalf("frame %d: reported masked=%v key %x, on the wire %v %x", i, ev.Masked, ev.Mask, w.Masked, w.Mask)
		case w.Length != ev.Length || w.LenEnc != ev.LenEnc:
			t.Fatalf("frame %d: reported len=%d in %d bits, on the wire %d in %d", i, ev.Length, ev.LenEnc, w.Length, w.LenEnc)
		case !bytes.Equal(w.Raw, ev.Raw):
			t.Fatalf("frame %d: reported header % x, on the wire % x", i, ev.Raw, w.Raw)
		}
		var tl *inspect.TooLargeError
		if errors.As(err, &tl) {
			// A lie of more than the decoder holds: the header is all.
			if i != len(frames)-1 || ev.Length <= uint64(len(ev.Payload)) {
				t.Fatalf("frame %d: %v", i, err)
			}
			return
		}
		if !bytes.Equal(w.Payload, ev.Payload) {
			t.Fatalf("frame %d: reported a payload of %d bytes, on the wire %d", i, len(ev.Payload), len(w.Payload))
		}
		if err != nil {
			var te *inspect.TruncatedError
			if !errors.As(err, &te) || i != len(frames)-1 || ev.Length <= uint64(len(ev.Payload)) {
				t.Fatalf("frame %d: %v", i, err)
			}
			return
		}
	}
	var more inspect.Frame
	if err := d.Next(&more); err != io.EOF {
		t.Fatalf("the wire holds more than the %d frames reported: %v", len(frames), err)
	}
}

// checkRecording writes the events as a recording, reads it back, and
// compares the frames.
func checkRecording(t *testing.T, events []inspect.Event) {
	t.Helper()
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, inspect.RecordingHeader{Version: "test"}, record.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if err := w.Write(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	r, err := record.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		back, err := r.Next()
		if err != nil {
			t.Fatalf("event %d of the recording does not read back: %v", i, err)
		}
		ev := &events[i]
		if back.Kind != ev.Kind {
			t.Fatalf("event %d: %v read back as %v", i, ev.Kind, back.Kind)
		}
		if ev.Kind != inspect.KindFrame {
			continue
		}
		f, b := ev.Frame, back.Frame
		if b.Header != f.Header && !(b.Header.Mask != f.Header.Mask && !f.Masked) || !bytes.Equal(b.Raw, f.Raw) || !bytes.Equal(b.Payload, f.Payload) {
			t.Fatalf("frame %d: reported %+v, header % x, %d bytes; recorded %+v, header % x, %d bytes", i, f.Header, f.Raw, len(f.Payload), b.Header, b.Raw, len(b.Payload))
		}
	}
	if e, err := r.Next(); err != io.EOF {
		t.Fatalf("the recording holds more than the events: %v %v", e, err)
	}
}

package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/wscope/wscope/internal/record"
	"io"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/replay"
)

func decodeEvents() []*inspect.Event {
	open := &inspect.Open{URL: "ws://h/graphql", Subprotocol: "graphql-transport-ws", Role: inspect.RoleClient}
	msg := func(dir inspect.Direction, s string) *inspect.Event {
		return &inspect.Event{Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: dir, Op: inspect.OpText, Payload: []byte(s)}}
	}
	return []*inspect.Event{
		{Kind: inspect.KindOpen, Conn: 1, Open: open},
		msg(inspect.ClientToServer, `{"id":"1","type":"subscribe","payload":{"query":"subscription OnMessage { m }"}}`),
		msg(inspect.ServerToClient, `{"id":"1","type":"next","payload":{"data":{"m":1}}}`),
	}
}

// Each view shows what the decoder read: frames a line per unit after
// the message, text the summary in place of the payload, json the
// "decoded" key; the open event names the decoder and why.
func TestDecodedViews(t *testing.T) {
	for _, c := range []struct {
		format, decode string
		want           []string
	}{
		{FormatFrames, "", []string{`decode=graphql (subprotocol "graphql-transport-ws")`, `c2s app    gql subscribe id=1 op=OnMessage subscription`, `s2c app    gql next id=1 op=OnMessage {"m":1}`}},
		{FormatText, "graphql", []string{"gql next id=1 op=OnMessage {\"m\":1}\n"}},
		{FormatJSON, "", []string{`"decoder":{"name":"graphql","why":"subprotocol \"graphql-transport-ws\""}`, `"decoded":[{"proto":"gql","type":"next","summary":"gql next id=1 op=OnMessage {\"m\":1}","fields":{"type":"next","id":"1","payload":{"data":{"m":1}}},"op":"OnMessage","corr":"op 1","role":"part"}]`}},
	} {
		var out, errOut bytes.Buffer
		s := newSink(&out, &errOut, c.format, inspect.ServerToClient)
		s.textDecoded = textDecoded(c.decode, false)
		if c.format == FormatJSON {
			s.startRecording("", record.WriterOptions{})
		}
		observe := newDecoding(c.decode).wrap(s.event)
		for _, e := range decodeEvents() {
			observe(e)
		}
		s.flush()
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("-o %s --decode %q: no %s in\n%s", c.format, c.decode, w, out.String())
			}
		}
	}
}

// In a pipe, text output keeps the payloads unless --decode names a
// decoder; --decode none decodes nothing at all.
func TestDecodedTextInPipes(t *testing.T) {
	for _, c := range []struct {
		decode string
		tty    bool
		want   bool
	}{{"", false, false}, {"", true, true}, {"mqtt", false, true}, {"none", true, false}} {
		if got := textDecoded(c.decode, c.tty); got != c.want {
			t.Errorf("--decode %q tty %v: %v", c.decode, c.tty, got)
		}
	}
	if newDecoding("none") != nil {
		t.Error("--decode none decodes")
	}
}

// A connection whose handshake names no protocol is sniffed, and a note
// says what chose.
func TestDecodeSniffNote(t *testing.T) {
	var got []string
	observe := newDecoding("").wrap(func(e *inspect.Event) {
		switch e.Kind {
		case inspect.KindNote:
			got = append(got, "note "+e.Text)
		case inspect.KindMsg:
			for _, d := range e.Msg.Decoded {
				got = append(got, d.Summary)
			}
		}
	})
	observe(&inspect.Event{Kind: inspect.KindOpen, Conn: 2, Open: &inspect.Open{URL: "ws://h/x"}})
	observe(&inspect.Event{Kind: inspect.KindMsg, Conn: 2, Msg: &inspect.Message{Dir: inspect.ClientToServer, Op: inspect.OpText, Payload: []byte(`{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}`)}})
	want := `note decoder jsonrpc (content: "jsonrpc":"2.0" in a c2s message)|rpc call sum id=1 [1,2]`
	if strings.Join(got, "|") != want {
		t.Errorf("got %q\nwant %q", strings.Join(got, "|"), want)
	}
}

func TestCheckDecode(t *testing.T) {
	for name, ok := range map[string]bool{"": true, "none": true, "mqtt": true, "MQTT": true, "wamp": false} {
		if err := CheckDecode(name); (err == nil) != ok {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestEmitCommand(t *testing.T) {
	for line, want := range map[string]string{
		`/emit chat {"text":"hi"}`: `42["chat",{"text":"hi"}]`,
		`/emit /admin ping`:        `42/admin,["ping"]`,
		`/emit`:                    `error: /emit: want an event name, e.g. /emit chat {"text":"hi"}`,
		`/emit chat {`:             `error: /emit: argument is not JSON: "{"`,
	} {
		var a action
		got := ""
		if err := parseSlash(&a, line); err != nil {
			got = "error: " + err.Error()
		} else {
			got = string(a.payload)
		}
		if got != want {
			t.Errorf("%s: %s, want %s", line, got, want)
		}
	}
}

func TestReplayIgnoreFieldNeedsDecode(t *testing.T) {
	for _, decode := range []string{"", "none"} {
		err := Replay(context.Background(), &ReplayOptions{IO: &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard},
			File: "unused.wsrec.jsonl", Decode: decode, Walk: replay.Options{IgnoreFields: []string{"ack"}}})
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), "--ignore-field needs --decode NAME") {
			t.Errorf("--decode %q: %v", decode, err)
		}
	}
}

// Messages of two connections interleaved are each decoded as their own
// connection chose, whichever was looked up last.
func TestDecodeInterleavedConnections(t *testing.T) {
	var got []string
	observe := newDecoding("").wrap(func(e *inspect.Event) {
		if e.Kind == inspect.KindMsg {
			got = append(got, fmt.Sprintf("%d:%d", e.Conn, len(e.Msg.Decoded)))
		}
	})
	gql := decodeEvents()
	observe(gql[0])
	observe(&inspect.Event{Kind: inspect.KindOpen, Conn: 2, Open: &inspect.Open{URL: "ws://h/x", Role: inspect.RoleClient}, T: 0})
	plain := &inspect.Event{Kind: inspect.KindMsg, Conn: 2, Msg: &inspect.Message{Dir: inspect.ServerToClient, Op: inspect.OpText, Payload: []byte("hello")}}
	for range 2 {
		observe(gql[1])
		observe(plain)
		observe(gql[2])
	}
	observe(&inspect.Event{Kind: inspect.KindEnd, Conn: 1, End: &inspect.End{}})
	observe(plain)
	if want := "1:1 2:0 1:1 1:1 2:0 1:1 2:0"; strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
}

// BenchmarkDecodingPlainMessage is the decoding's cost on every message of
// a connection no decoder reads: the pipe mode's common case.
func BenchmarkDecodingPlainMessage(b *testing.B) {
	observe := newDecoding("").wrap(func(*inspect.Event) {})
	observe(&inspect.Event{Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{URL: "ws://h/x", Role: inspect.RoleClient}})
	e := &inspect.Event{Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: inspect.ServerToClient, Op: inspect.OpText, Payload: []byte("abcdefghijklmnopqrstuvwxyz012345")}}
	for range 10 { // past sniffing
		observe(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		observe(e)
	}
}

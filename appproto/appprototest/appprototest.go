// Package appprototest helps the decoders' tests: messages in, summaries
// and fields out, and a fuzz body shared by every decoder.
package appprototest

import (
	"strings"
	"testing"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

// C2S and S2C make a text message from each side; binary ones with B.
func C2S(s string) *inspect.Message { return Text(inspect.ClientToServer, s) }

// S2C is a text message from the server.
func S2C(s string) *inspect.Message { return Text(inspect.ServerToClient, s) }

// Text is a text message.
func Text(dir inspect.Direction, s string) *inspect.Message {
	return &inspect.Message{Dir: dir, Op: inspect.OpText, Payload: []byte(s)}
}

// Binary is a binary message.
func Binary(dir inspect.Direction, b []byte) *inspect.Message {
	return &inspect.Message{Dir: dir, Op: inspect.OpBinary, Payload: b}
}

// Summaries decodes ms in order and returns every unit's summary, with
// the messages' units separated by " | " and messages by newlines.
func Summaries(d appproto.Decoder, ms ...*inspect.Message) string {
	var lines []string
	for _, m := range ms {
		var ss []string
		for _, u := range d.Decode(m) {
			ss = append(ss, u.Summary)
		}
		lines = append(lines, strings.Join(ss, " | "))
	}
	return strings.Join(lines, "\n")
}

// Case is one message and what decoding it must give.
type Case struct {
	Msg     *inspect.Message
	Summary string // all units' summaries joined by " | "
	// Fields the first unit must have, "key=value" each (a JSON field's
	// Value as its JSON text).
	Fields []string
	Corr   string // the first unit's Corr and role, "key/role"; "" checks nothing
	Op     string
	Err    bool // the first unit has Err
}

// Run decodes the cases in order through one decoder, as one
// connection's messages.
func Run(t *testing.T, d appproto.Decoder, cases []Case) {
	t.Helper()
	for i, c := range cases {
		us := d.Decode(c.Msg)
		var ss []string
		for _, u := range us {
			ss = append(ss, u.Summary)
		}
		got := strings.Join(ss, " | ")
		if got != c.Summary {
			t.Errorf("message %d (%s %.60q):\n got %s\nwant %s", i, c.Msg.Dir, c.Msg.Payload, got, c.Summary)
		}
		if len(us) == 0 {
			continue
		}
		u := us[0]
		for _, f := range c.Fields {
			k, v, _ := strings.Cut(f, "=")
			if gv, ok := u.Field(k); !ok || gv != v {
				t.Errorf("message %d: field %s = %q (present %v), want %q", i, k, gv, ok, v)
			}
		}
		if c.Corr != "" {
			if got := u.Corr + "/" + u.CorrRole.String(); got != c.Corr {
				t.Errorf("message %d: corr %q, want %q", i, got, c.Corr)
			}
		}
		if c.Op != "" && u.Op != c.Op {
			t.Errorf("message %d: op %q, want %q", i, u.Op, c.Op)
		}
		if (u.Err != "") != c.Err {
			t.Errorf("message %d: err %q, want an error: %v", i, u.Err, c.Err)
		}
	}
}

// Fuzz is the body of every decoder's fuzz target: messages split from
// data go through one decoder, which must neither panic nor return a
// unit without a summary, and whose JSON fields are valid JSON.
func Fuzz(t *testing.T, p appproto.Protocol, sub string, data []byte) {
	d := p.New(sub)
	if p.Sniff != nil {
		p.Sniff(&inspect.Message{Dir: inspect.ClientToServer, Op: inspect.OpText, Payload: data})
		p.Sniff(&inspect.Message{Dir: inspect.ServerToClient, Op: inspect.OpBinary, Payload: data})
	}
	for i, part := range splitMessages(data) {
		dir := inspect.Direction(1 + i%2)
		op := inspect.OpText
		if len(part) > 0 && part[0]&1 == 1 {
			op = inspect.OpBinary
		}
		for _, u := range d.Decode(&inspect.Message{Dir: dir, Op: op, Payload: part}) {
			if u.Summary == "" || u.Protocol == "" {
				t.Fatalf("unit without a summary or protocol: %+v", u)
			}
			for _, f := range u.Fields {
				if f.JSON && (!validJSON(f.Value) || strings.ContainsAny(f.Value, "\n\r")) {
					t.Fatalf("field %s is not compact JSON: %.80q", f.Key, f.Value)
				}
			}
		}
	}
}

// splitMessages cuts data at 0xFF bytes: each piece one message.
func splitMessages(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 && len(out) < 64 {
		i := 0
		for i < len(data) && data[i] != 0xff {
			i++
		}
		out = append(out, data[:i])
		if i == len(data) {
			break
		}
		data = data[i+1:]
	}
	return out
}

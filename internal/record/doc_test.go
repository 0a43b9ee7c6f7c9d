package record

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// The format document must list what the code knows, and its examples
// must read back.
func TestFormatDocument(t *testing.T) {
	doc, err := os.ReadFile("../../docs/recording-format.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, r := range inspect.Rules() {
		row := "| `" + string(r) + "` | " + r.Section() + " |"
		if !strings.Contains(text, row) {
			t.Errorf("docs/recording-format.md has no row %q", row)
		}
	}
	for code := inspect.CloseCode(1000); code <= 1015; code++ {
		row := "| " + strconv.Itoa(int(code)) + " | " + code.Name() + " |"
		if !strings.Contains(text, row) {
			t.Errorf("docs/recording-format.md has no row %q", row)
		}
	}
	for _, r := range []struct {
		code inspect.CloseCode
		row  string
	}{{2000, "| 1016-2999 | "}, {3500, "| 3000-3999 | "}, {4500, "| 4000-4999 | "}, {999, "| 0-999, 5000-65535 | "}} {
		if !strings.Contains(text, r.row+r.code.Name()+" |") {
			t.Errorf("docs/recording-format.md: no row %q%s", r.row, r.code.Name())
		}
	}
	for _, h := range inspect.CredentialHeaders {
		if !strings.Contains(text, "`"+h+"`") {
			t.Errorf("docs/recording-format.md does not name the credential header %s", h)
		}
	}
	for _, p := range inspect.CredentialParams {
		if !strings.Contains(text, "`"+p+"`") {
			t.Errorf("docs/recording-format.md does not name the credential query parameter %s", p)
		}
	}
	if !strings.Contains(text, "`"+inspect.BearerSubprotocol+"<token>`") {
		t.Errorf("docs/recording-format.md does not name the bearer subprotocol")
	}

	// Every ```jsonl block is a recording, every ```json block one line:
	// a header or an event.
	blocks := regexp.MustCompile("(?s)```(jsonl|json)\n(.*?)```").FindAllStringSubmatch(text, -1)
	if len(blocks) < 8 {
		t.Fatalf("only %d examples found", len(blocks))
	}
	for i, b := range blocks {
		in := b[2]
		if b[1] == "json" && !strings.HasPrefix(in, `{"wsrec"`) {
			in = hdr + in
		}
		r, err := NewReader(strings.NewReader(in))
		if err != nil {
			t.Errorf("example %d: %v", i, err)
			continue
		}
		var evs []*inspect.Event
		var each [][]byte
		for e, err := range r.All() {
			if err != nil {
				t.Errorf("example %d: %v", i, err)
				break
			}
			evs = append(evs, CloneEvent(e))
			each = append(each, AppendEvent(nil, e))
		}
		// The examples are what the writer writes, byte for byte: each
		// event as its own line, or as the batching writer of --record
		// writes it (a whole message's payload once).
		var batched bytes.Buffer
		bw, err := NewWriter(&batched, inspect.RecordingHeader{}, WriterOptions{MaxDelay: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			bw.Write(e)
		}
		bw.Close()
		lines := strings.Split(strings.TrimSuffix(batched.String(), "\n"), "\n")[1:]
		for n := range evs {
			if !bytes.Contains([]byte(in), each[n]) && !strings.Contains(in, lines[n]) {
				t.Errorf("example %d: event %d is not as the writer writes it:\n%s\nor\n%s", i, n, each[n], lines[n])
			}
		}
		if len(r.Warnings()) > 0 {
			t.Errorf("example %d: %q", i, r.Warnings())
		}
	}
}

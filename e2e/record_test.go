package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// readRecording reads a recording file back with the project's reader.
func readRecording(t *testing.T, path string) ([]*inspect.Event, *record.Reader) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := record.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*inspect.Event
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return evs, r
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		evs = append(evs, record.CloneEvent(e))
	}
}

func kinds(evs []*inspect.Event) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		k := e.Kind.String()
		if e.Msg != nil {
			k += " " + e.Msg.Dir.String()
		}
		m[k]++
	}
	return m
}

func TestConnectRecordKeepsBothDirectionsInTextMode(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	path := filepath.Join(t.TempDir(), "s.wsrec.jsonl")
	r := run(t, "one\ntwo\n", "connect", srv.URL(), "--record", path, "--auth", "ann:pw")
	r.expectCode(t, 0)
	if r.Stdout != "one\ntwo\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
	evs, rd := readRecording(t, path)
	k := kinds(evs)
	if k["open"] != 1 || k["msg c2s"] != 2 || k["msg s2c"] != 2 || k["end"] != 1 || k["frame"] != 6 {
		t.Fatalf("events %v", k)
	}
	if h := rd.Header(); h.Source != "live" || len(h.Redacted) == 0 {
		t.Errorf("header %+v", h)
	}
	for _, h := range evs[0].Open.Request.Headers {
		if h.Name == "Authorization" && h.Value != inspect.Redacted {
			t.Errorf("credentials recorded: %q", h.Value)
		}
	}
	if !evs[len(evs)-1].End.Clean {
		t.Errorf("end %+v", evs[len(evs)-1].End)
	}
}

func TestConnectRecordUnwritableIsUsageError(t *testing.T) {
	t.Parallel()
	r := run(t, "", "connect", "ws://127.0.0.1:1/", "--record", "/nonexistent/dir/x.jsonl")
	r.expectCode(t, 2)
}

func TestListenRecordsEveryConnection(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "l.wsrec.jsonl")
	p := start(t, "listen", "127.0.0.1:0", "--echo", "--record", path)
	url := "ws://" + p.listenAddr() + "/"
	for i := range 2 {
		c := tp.Dial(t, url, tp.ClientOptions{})
		c.Send(tp.TextMsg(fmt.Sprint("hi ", i)))
		c.Read(step)
		c.Close(1000, "")
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[2\] closed`), step)
	p.interrupt()
	p.wait(step)
	evs, _ := readRecording(t, path)
	conns := map[int]bool{}
	for _, e := range evs {
		conns[e.Conn] = true
	}
	if k := kinds(evs); k["open"] != 2 || k["msg c2s"] != 2 || k["msg s2c"] != 2 || k["end"] != 2 || len(conns) != 2 {
		t.Fatalf("events %v in connections %v", k, conns)
	}
}

// TestRecordSurvivesSIGKILL kills wscope mid-session: every complete line
// of the recording must read back.
func TestRecordSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	path := filepath.Join(t.TempDir(), "k.wsrec.jsonl")
	p := start(t, "connect", srv.URL(), "--record", path)
	for i := range 200 {
		fmt.Fprintf(p.stdin, "message %d\n", i)
	}
	p.stdout.waitLines(t, 200, step)
	p.signal(syscall.SIGKILL)
	p.wait(step)
	deadline := time.Now().Add(step)
	for time.Now().Before(deadline) {
		evs, _ := readRecording(t, path)
		if k := kinds(evs); k["msg s2c"] == 200 && k["msg c2s"] == 200 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	evs, _ := readRecording(t, path)
	t.Fatalf("after SIGKILL the recording holds %v", kinds(evs))
}

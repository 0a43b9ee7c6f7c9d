package replay

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/testpeer"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// rec builds the events of one recorded connection, as connect would
// record them: frames, then the message they make.
type rec struct {
	t   time.Duration
	seq uint64
	evs []*inspect.Event
}

func newRec(url, subprotocol string, headers ...inspect.HeaderField) *rec {
	r := &rec{}
	r.evs = append(r.evs, &inspect.Event{Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{
		URL: url, Role: inspect.RoleClient, Subprotocol: subprotocol,
		Request:  inspect.Request{Method: "GET", Target: "/", Proto: "HTTP/1.1", Headers: headers},
		Response: inspect.Response{Proto: "HTTP/1.1", Status: 101},
	}})
	return r
}

// at sets the time of what is added next.
func (r *rec) at(d time.Duration) *rec { r.t = d; return r }

func (r *rec) frame(dir inspect.Direction, op inspect.OpCode, fin bool, p []byte) uint64 {
	r.seq++
	f := &inspect.Frame{Seq: r.seq, Dir: dir, Payload: p,
		Header: inspect.Header{Fin: fin, Op: op, Masked: dir == inspect.ClientToServer, Length: uint64(len(p)), LenEnc: inspect.MinimalLengthEncoding(uint64(len(p)))}}
	if op == inspect.OpClose {
		if c, ok := inspect.ParseClose(p); ok {
			f.Close = &c
		}
	}
	r.evs = append(r.evs, &inspect.Event{T: r.t, Kind: inspect.KindFrame, Conn: 1, Frame: f})
	return r.seq
}

// msg adds a data message, in frames of the given sizes (one frame when
// none are given).
func (r *rec) msg(dir inspect.Direction, op inspect.OpCode, p string, sizes ...int) *rec {
	if len(sizes) == 0 {
		sizes = []int{len(p)}
	}
	var seqs []uint64
	rest := []byte(p)
	for i, n := range sizes {
		fop := op
		if i > 0 {
			fop = inspect.OpContinuation
		}
		seqs = append(seqs, r.frame(dir, fop, i == len(sizes)-1, rest[:n]))
		rest = rest[n:]
	}
	r.evs = append(r.evs, &inspect.Event{T: r.t, Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: dir, Op: op, Frames: seqs, Payload: []byte(p)}})
	r.t += time.Millisecond
	return r
}

func (r *rec) c(p string) *rec { return r.msg(inspect.ClientToServer, inspect.OpText, p) }
func (r *rec) s(p string) *rec { return r.msg(inspect.ServerToClient, inspect.OpText, p) }

func (r *rec) ctl(dir inspect.Direction, op inspect.OpCode, p string) *rec {
	r.frame(dir, op, true, []byte(p))
	r.t += time.Millisecond
	return r
}

// closeBy records a close handshake started by closer and answered with
// the same code, and the end.
func (r *rec) closeBy(closer inspect.Direction, code inspect.CloseCode, reason string) *rec {
	r.frame(closer, inspect.OpClose, true, inspect.AppendClose(nil, code, reason))
	r.frame(closer.Reverse(), inspect.OpClose, true, inspect.AppendClose(nil, code, ""))
	r.evs = append(r.evs, &inspect.Event{T: r.t, Kind: inspect.KindEnd, Conn: 1, End: &inspect.End{
		Clean: true, Code: code, Reason: reason, Closer: peerName(closer), TCP: "fin"}})
	return r
}

// dropped records a connection the peer of wscope (a server) dropped.
func (r *rec) dropped() *rec {
	r.evs = append(r.evs, &inspect.Event{T: r.t, Kind: inspect.KindEnd, Conn: 1, End: &inspect.End{
		Code: inspect.CloseAbnormal, TCP: "fin", Err: "connection closed without a close frame"}})
	return r
}

func (r *rec) script(t *testing.T) *Script {
	t.Helper()
	s, err := NewScript(r.evs, 1)
	if err != nil {
		t.Fatalf("NewScript: %v", err)
	}
	return s
}

const (
	c2s = inspect.ClientToServer
	s2c = inspect.ServerToClient
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawServe starts a crafted server: each connection is accepted (with
// the extra response headers) and handed to script; an error it returns
// fails the test.
func rawServe(t *testing.T, accept []testpeer.HeaderField, script func(rc *testpeer.RawConn) error) *testpeer.RawServer {
	t.Helper()
	errs := make(chan error, 16)
	// Registered before the server's cleanup, so it runs after the
	// handlers are done.
	t.Cleanup(func() {
		close(errs)
		for err := range errs {
			t.Errorf("raw server: %v", err)
		}
	})
	return testpeer.NewRawServer(t, func(rc *testpeer.RawConn) {
		err := rc.Accept(accept...)
		if err == nil {
			err = script(rc)
		}
		// The client going away is how most scripts end.
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
			!errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
			errs <- err
		}
	})
}

// serverRead reads the client's next data message, skipping pings and
// pongs. On a close frame it answers with the same code and reports
// closed.
func serverRead(rc *testpeer.RawConn) (msg string, closed bool, err error) {
	var buf []byte
	for {
		f, err := rc.ReadFrame(testpeer.DefaultTimeout)
		if err != nil {
			return "", false, err
		}
		switch f.Op {
		case inspect.OpClose:
			return "", true, rc.WriteFrame(testpeer.ServerFrame(inspect.OpClose, f.Payload[:min(2, len(f.Payload))]))
		case inspect.OpPing, inspect.OpPong:
			continue
		}
		buf = append(buf, f.Payload...)
		if f.Fin {
			return string(buf), false, nil
		}
	}
}

// serverFinish reads until the client's close and answers it.
func serverFinish(rc *testpeer.RawConn) error {
	for {
		_, closed, err := serverRead(rc)
		if err != nil || closed {
			return err
		}
	}
}

func text(s string) testpeer.FrameSpec { return testpeer.ServerFrame(inspect.OpText, []byte(s)) }

func closeFrame(code int, reason string) testpeer.FrameSpec {
	return testpeer.ServerFrame(inspect.OpClose, testpeer.ClosePayload(code, reason))
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func mismatchText(r *Result) string {
	var b strings.Builder
	for _, m := range r.Mismatches {
		b.WriteString(m.Text())
	}
	return b.String()
}

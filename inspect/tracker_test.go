package inspect

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// track decodes each wire frame (its direction from its mask bit: clients
// mask) and feeds it to t, returning the steps.
func track(t *testing.T, tr *Tracker, frames ...[]byte) []Step {
	t.Helper()
	var steps []Step
	for i, w := range frames {
		dir := ServerToClient
		if w[1]&0x80 != 0 {
			dir = ClientToServer
		}
		d := NewDecoder(bytes.NewReader(w), dir)
		var f Frame
		if err := d.Next(&f); err != nil {
			var tl *TooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("frame %d: %v", i, err)
			}
			steps = append(steps, tr.Oversized(&f, tl))
			continue
		}
		steps = append(steps, tr.Frame(&f))
	}
	return steps
}

// trackAs feeds one frame sent in dir, whatever its mask bit says.
func trackAs(t *testing.T, tr *Tracker, dir Direction, w []byte) Step {
	t.Helper()
	var f Frame
	if err := NewDecoder(bytes.NewReader(w), dir).Next(&f); err != nil {
		t.Fatal(err)
	}
	return tr.Frame(&f)
}

func closeBody(code CloseCode, reason string) string { return string(AppendClose(nil, code, reason)) }

func TestTrackerEndsWithTheCodeReceived(t *testing.T) {
	// RFC 6455 section 7.1.5: a client that closed with 1000 and got 1002
	// back ended with 1002, whoever went first.
	tr := NewTracker(TrackerOptions{Peer: ServerToClient})
	steps := track(t, tr,
		client(true, OpClose, closeBody(1000, "")),
		server(true, OpClose, closeBody(1002, "bad frame")),
	)
	if steps[1].Answer || !steps[1].Closed {
		t.Fatalf("the server's close after ours: %+v", steps[1])
	}
	e := tr.End("fin", nil)
	if e.Code != 1002 || e.Reason != "bad frame" || e.Closer != "client" || !e.Clean {
		t.Fatalf("end %+v", e)
	}
	if e.ClientClose == nil || e.ClientClose.Code != 1000 || e.ServerClose == nil || e.ServerClose.Code != 1002 {
		t.Fatalf("closes %+v %+v", e.ClientClose, e.ServerClose)
	}
	if e.ExitStatus() != ExitAbnormal {
		t.Errorf("exit %d", e.ExitStatus())
	}
	want := `1002 Protocol Error "bad frame" by server, after the client's 1000 Normal Closure, clean`
	if got := DescribeEnd(&e); got != want {
		t.Errorf("DescribeEnd\n got %s\nwant %s", got, want)
	}
}

func TestTrackerAnswersTheFirstClose(t *testing.T) {
	for _, c := range []struct {
		name   string
		body   string
		answer CloseCode
		exit   int
	}{
		{"code echoed", closeBody(1001, "bye"), 1001, ExitClean},
		{"empty close answered empty, and clean", "", 0, ExitClean},
		{"4000 echoed, exit 4", closeBody(4000, ""), 4000, ExitAbnormal},
		{"one byte is a protocol error", "\x03", CloseProtocolError, ExitAbnormal},
		{"1005 on the wire is a protocol error", closeBody(1005, ""), CloseProtocolError, ExitAbnormal},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTracker(TrackerOptions{Peer: ClientToServer}) // a server
			st := track(t, tr, client(true, OpClose, c.body))[0]
			if !st.Answer || st.AnswerCode != c.answer || st.Closed {
				t.Fatalf("step %+v, want an answer of %d", st, c.answer)
			}
			var reply []byte
			if c.answer != 0 {
				reply = AppendClose(nil, c.answer, "")
			}
			if st := track(t, tr, server(true, OpClose, string(reply)))[0]; !st.Closed || st.Answer {
				t.Fatalf("our answer: %+v", st)
			}
			e := tr.End("local", nil)
			if !e.Clean || e.Closer != "client" || e.ExitStatus() != c.exit {
				t.Errorf("end %+v: exit %d, want %d", e, e.ExitStatus(), c.exit)
			}
		})
	}
}

func TestTrackerWithoutACloseBack(t *testing.T) {
	tr := NewTracker(TrackerOptions{Peer: ServerToClient})
	track(t, tr, client(true, OpText, "hi"), client(true, OpClose, closeBody(1000, "")))
	e := tr.End("timeout", errors.New("no close frame from the peer within 5s"))
	if e.Code != CloseAbnormal || e.Clean || e.Closer != "client" || e.ExitStatus() != ExitAbnormal {
		t.Fatalf("end %+v", e)
	}
	want := "1006 Abnormal Closure, after the client's 1000 Normal Closure, not clean: no close frame from the peer within 5s"
	if got := DescribeEnd(&e); got != want {
		t.Errorf("DescribeEnd\n got %s\nwant %s", got, want)
	}
	// After a completed handshake the transport error no longer matters.
	tr = NewTracker(TrackerOptions{Peer: ServerToClient})
	track(t, tr, server(true, OpClose, ""), client(true, OpClose, ""))
	if e := tr.End("reset", errors.New("connection reset by peer")); !e.Clean || e.Err != "" || e.Code != CloseNoStatus || e.ExitStatus() != ExitClean {
		t.Errorf("end after the handshake %+v", e)
	}
}

func TestTrackerCountsThePeersViolations(t *testing.T) {
	tr := NewTracker(TrackerOptions{Peer: ServerToClient})
	steps := []Step{
		trackAs(t, tr, ServerToClient, wire(Header{Fin: true, Op: OpText, Masked: true, Mask: testKey}, []byte("masked by a server"))),
		trackAs(t, tr, ClientToServer, wire(Header{Fin: true, Op: OpText, Rsv: Rsv2, Masked: true, Mask: testKey}, []byte("ours, crafted"))),
	}
	steps = append(steps, track(t, tr, server(true, OpClose, closeBody(1000, "")), client(true, OpClose, closeBody(1000, "")))...)
	for i, st := range steps {
		if st.Fail != 0 {
			t.Errorf("step %d fails with %d outside --strict", i, st.Fail)
		}
	}
	e := tr.End("fin", nil)
	if e.Violations != 1 || e.FirstViolation == nil || e.FirstViolation.Rule != RuleServerMasked || e.FirstViolation.Seq != 1 {
		t.Fatalf("violations %d, first %+v", e.Violations, e.FirstViolation)
	}
	if !e.Clean || e.ExitStatus() != ExitAbnormal {
		t.Errorf("a clean 1000 after a violation: exit %d", e.ExitStatus())
	}
	if got := DescribeEnd(&e); !strings.HasSuffix(got, "; 1 violation: server-frame-masked (RFC 6455 5.1) by the server in frame 1") {
		t.Errorf("DescribeEnd %s", got)
	}
}

func TestTrackerStrictFailsAtTheFirstViolation(t *testing.T) {
	tr := NewTracker(TrackerOptions{Peer: ServerToClient, Strict: true})
	st := track(t, tr, wire(Header{Fin: true, Op: OpBinary, Rsv: Rsv2}, []byte("x")))[0]
	if st.Fail != CloseProtocolError || !strings.Contains(st.FailWhy, "rsv-without-extension") {
		t.Fatalf("step %+v", st)
	}
	tr = NewTracker(TrackerOptions{Peer: ServerToClient, Strict: true})
	steps := track(t, tr, server(false, OpText, "ok"), server(false, OpContinuation, "\xf4\x90"), server(true, OpContinuation, "\x80\x80"))
	if steps[0].Fail != 0 || steps[1].Fail != CloseInvalidPayload {
		t.Fatalf("invalid UTF-8 in the second fragment: fails %d, %d", steps[0].Fail, steps[1].Fail)
	}
	if m := steps[2].Msg; m == nil || len(m.Violations) != 1 {
		t.Fatalf("the message %+v", m)
	}
	if e := tr.End("fin", nil); e.Violations != 1 {
		t.Errorf("the violation counted %d times", e.Violations)
	}
}

func TestTrackerLengthTopBitBeforeTheLimit(t *testing.T) {
	top := bits("1 000 0010 0 1111111") // FIN, binary, 64-bit length follows
	top = append(top, 0x80, 0, 0, 0, 0, 0, 0, 5)
	for _, strict := range []bool{false, true} {
		tr := NewTracker(TrackerOptions{Peer: ServerToClient, Strict: strict})
		var f Frame
		d := NewDecoder(bytes.NewReader(top), ServerToClient)
		d.MaxFrameSize = 1 << 20
		var tl *TooLargeError
		if err := d.Next(&f); !errors.As(err, &tl) {
			t.Fatalf("decoder: %v", err)
		}
		st := tr.Oversized(&f, tl)
		if ruleNames(f.Violations) != string(RuleLengthTopBit) {
			t.Fatalf("violations %v", f.Violations)
		}
		want := CloseMessageTooBig
		if strict {
			want = CloseProtocolError
		}
		if st.Fail != want {
			t.Errorf("strict %v: fails with %d, want %d", strict, st.Fail, want)
		}
		if e := tr.End("local", nil); e.Violations != 1 || e.Err == "" {
			t.Errorf("end %+v", e)
		}
	}
}

func TestTrackerObserver(t *testing.T) {
	tr := NewTracker(TrackerOptions{})
	steps := track(t, tr,
		server(false, OpText, "a"),
		server(true, OpContinuation, "b"),
		client(true, OpClose, closeBody(4000, "c")),
		server(true, OpClose, closeBody(1000, "s")),
	)
	for i, st := range steps {
		if st.Answer || st.Fail != 0 {
			t.Errorf("an observer is told to act at step %d: %+v", i, st)
		}
	}
	e := tr.End("fin", nil)
	if e.Code != 1000 || e.Closer != "client" || !e.Clean || e.Violations != 0 {
		t.Fatalf("end %+v", e)
	}
	// An observer counts both sides' violations.
	tr = NewTracker(TrackerOptions{})
	trackAs(t, tr, ServerToClient, wire(Header{Fin: true, Op: OpText, Masked: true, Mask: testKey}, []byte("x")))
	tr.MarkCloser("proxy")
	inject := func(w []byte) {
		var f Frame
		dir := ServerToClient
		if w[1]&0x80 != 0 {
			dir = ClientToServer
		}
		if err := NewDecoder(bytes.NewReader(w), dir).Next(&f); err != nil {
			t.Fatal(err)
		}
		tr.Injected(&f)
	}
	inject(client(true, OpClose, closeBody(1009, "")))
	inject(server(true, OpClose, closeBody(1009, "")))
	// Each side answers; only then did its handshake complete.
	if st := track(t, tr, client(true, OpClose, closeBody(1009, "")))[0]; st.Closed {
		t.Fatal("closed before the server answered")
	}
	if st := track(t, tr, server(true, OpClose, closeBody(1009, "")))[0]; !st.Closed {
		t.Fatal("not closed after both answered")
	}
	e = tr.End("local", nil)
	if e.Violations != 1 || e.Closer != "proxy" || e.Code != 1009 || !e.Clean {
		t.Fatalf("end %+v", e)
	}
	if got := DescribeEnd(&e); !strings.HasPrefix(got, "1009 Message Too Big by proxy, clean") {
		t.Errorf("DescribeEnd %s", got)
	}
	// Without the peers' answers, the proxy's closes are no handshake.
	tr = NewTracker(TrackerOptions{})
	tr.MarkCloser("proxy")
	inject(client(true, OpClose, closeBody(1001, "")))
	inject(server(true, OpClose, closeBody(1001, "")))
	if e := tr.End("local", nil); e.Clean || e.Code != 1001 || e.Closer != "proxy" {
		t.Fatalf("unanswered: %+v", e)
	}
}

// Checking, numbering and reassembling a frame allocates nothing.
func TestTrackerFrameDoesNotAllocate(t *testing.T) {
	tr := NewTracker(TrackerOptions{Peer: ServerToClient, MaxMessageSize: 1 << 20, MaxFrames: 1 << 20})
	w := cat(server(true, OpText, "a text message"), server(false, OpBinary, "in "), server(true, OpContinuation, "two"))
	r := bytes.NewReader(nil)
	d := NewDecoder(r, ServerToClient)
	var f Frame
	allocs := testing.AllocsPerRun(1000, func() {
		r.Reset(w)
		for range 3 {
			if err := d.Next(&f); err != nil {
				t.Fatal(err)
			}
			tr.Frame(&f)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per three frames", allocs)
	}
}

package wire

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// A relay whose client, or whose upstream, takes nothing of what it is
// sent is dropped once a write has waited WriteTimeout: both sides, and
// the end says who stalled.
func TestRelayDropsAPeerThatStopsReading(t *testing.T) {
	t.Parallel()
	big := make([]byte, 1<<20)
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		upstreamDropped := make(chan bool, 1)
		upstream := tp.NewRawServer(t, func(rc *tp.RawConn) {
			if rc.Accept() != nil {
				return
			}
			for range 256 {
				if rc.WriteFrame(tp.ServerFrame(inspect.OpBinary, big)) != nil {
					upstreamDropped <- true
					return
				}
			}
			upstreamDropped <- false
		})
		rt := startRelayWith(t, upstream.URL(), RelayOptions{}, Config{WriteTimeout: 300 * time.Millisecond})
		tp.DialRaw(t, rt.URL(), tp.RawDialOptions{}) // never reads
		end := rt.waitEnd(t)
		if end.TCP != "local" || !strings.Contains(end.Err, "dropped: the client took nothing of what was sent for 300ms") {
			t.Errorf("end %+v", end)
		}
		select {
		case dropped := <-upstreamDropped:
			if !dropped {
				t.Error("256 MiB went through to a client that reads nothing")
			}
		case <-time.After(step):
			t.Error("the upstream is still connected")
		}
	})
	t.Run("server", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		defer close(release)
		upstream := tp.NewRawServer(t, func(rc *tp.RawConn) {
			if rc.Accept() != nil {
				return
			}
			<-release // reads nothing
		})
		rt := startRelayWith(t, upstream.URL(), RelayOptions{}, Config{WriteTimeout: 300 * time.Millisecond})
		c := tp.DialRaw(t, rt.URL(), tp.RawDialOptions{})
		go func() {
			for range 256 {
				if c.WriteFrame(tp.ClientFrame(inspect.OpBinary, big)) != nil {
					return
				}
			}
		}()
		end := rt.waitEnd(t)
		if end.TCP != "local" || !strings.Contains(end.Err, "dropped: the server took nothing of what was sent for 300ms") {
			t.Errorf("end %+v", end)
		}
		// Dropped: an EOF, or a reset (it was sending).
		var ne net.Error
		if _, err := c.WaitEOF(step); errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("the client is still connected: %v", err)
		}
	})
}

// A relay in which neither side has sent anything for IdleTimeout is
// closed towards both with 1001 and a reason that says why.
func TestRelayIdleTimeout(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	rt := startRelayWith(t, srv.URL(), RelayOptions{}, Config{IdleTimeout: 200 * time.Millisecond})
	c := tp.Dial(t, rt.URL(), tp.ClientOptions{})
	c.Send(tp.TextMsg("then silence"))
	if m, err := c.Read(step); err != nil || string(m.Data) != "then silence" {
		t.Fatalf("echo %v %v", m, err)
	}
	want := tp.CloseInfo{Code: 1001, Reason: "idle for 200ms"}
	if st, ok := c.WaitClosed(step); !ok || st != want {
		t.Errorf("client got close %v %v, want %v", st, ok, want)
	}
	if st, ok := srv.WaitClosed(step); !ok || st != want {
		t.Errorf("upstream got close %v %v, want %v", st, ok, want)
	}
	if end := rt.waitEnd(t); end.Closer != "proxy" || end.Code != 1001 || !end.Clean {
		t.Errorf("end %+v", end)
	}
}

// A client that has sent nothing for IdleTimeout gets 1001 and the reason.
func TestConnIdleTimeout(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	conns := make(chan *Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			close(conns)
			return
		}
		c, _, err := Accept(nc, AcceptOptions{}, Config{IdleTimeout: 200 * time.Millisecond})
		if err != nil {
			close(conns)
			return
		}
		conns <- c
		c.Run()
	}()
	rc := tp.DialRaw(t, "ws://"+ln.Addr().String()+"/", tp.RawDialOptions{})
	c := <-conns
	if c == nil {
		t.Fatal("handshake failed")
	}
	f, err := rc.ReadFrame(step)
	if st, ok := f.Close(); err != nil || !ok || st.Code != 1001 || st.Reason != "idle for 200ms" {
		t.Fatalf("got %v %v, want a close 1001 \"idle for 200ms\"", f, err)
	}
	rc.WriteFrame(tp.ClientFrame(inspect.OpClose, f.Payload))
	if !c.Wait(step) {
		t.Fatal("the connection is still open")
	}
	if end := c.End(); end.Closer != "server" || end.Code != 1001 || !end.Clean {
		t.Errorf("end %+v", end)
	}
}

// The idle watch fires once the peer has been silent for its time, not
// while bytes keep arriving, and never once stopped.
func TestIdleWatch(t *testing.T) {
	t.Parallel()
	const d = 50 * time.Millisecond
	fired := make(chan struct{}, 2)
	onIdle := func() { fired <- struct{}{} }

	silentSince := time.Now()
	w := watchIdle(d, func() time.Time { return silentSince }, onIdle)
	select {
	case <-fired:
	case <-time.After(step):
		t.Fatal("a silent peer was not found idle")
	}
	w.stop()

	active := watchIdle(d, time.Now, onIdle) // bytes arrive all the time
	stopped := watchIdle(d, func() time.Time { return silentSince }, onIdle)
	stopped.stop()
	time.Sleep(10 * d)
	active.stop()
	select {
	case <-fired:
		t.Error("fired for a peer that is not idle, or after stop")
	default:
	}
	if w := watchIdle(0, time.Now, onIdle); w != nil {
		t.Error("a watch without a timeout")
	}
}

// A request head is read up to 64 KiB, no further: past it the client gets
// 400, from listen's handshake reader and from the relay alike.
func TestRequestHeadBounded(t *testing.T) {
	t.Parallel()
	// No blank line: the server has read everything when it refuses, so
	// no reset can destroy its answer.
	head := "GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", maxHandshake) + "\r\n"
	const want = "request head larger than 65536 bytes"
	ln := listenLoopback(t)
	errc := acceptOnce(ln, AcceptOptions{})
	if status, body := refusalOf(t, "ws://"+ln.Addr().String()+"/", head); status != 400 || !strings.Contains(body, want) {
		t.Errorf("listen: %d %q", status, body)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Accept: %v", err)
	}
	upstream := tp.NewRawServer(t, func(rc *tp.RawConn) {})
	rt := startRelay(t, upstream.URL(), RelayOptions{})
	if status, body := refusalOf(t, rt.URL(), head); status != 400 || !strings.Contains(body, want) {
		t.Errorf("relay: %d %q", status, body)
	}
	if err := rt.firstErr(t); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("AcceptRelay: %v", err)
	}
	if n := upstream.Accepted(); n != 0 {
		t.Errorf("the upstream got %d connections", n)
	}
}

// A client that never finishes its request is dropped after the
// handshake's timeout.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	errc := acceptOnce(ln, AcceptOptions{Timeout: 200 * time.Millisecond})
	rt := startRelay(t, "ws://127.0.0.1:1/", RelayOptions{Timeout: 200 * time.Millisecond})
	for _, url := range []string{"ws://" + ln.Addr().String() + "/", rt.URL()} {
		c, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\n")) // and nothing more
		c.SetReadDeadline(time.Now().Add(step))
		var ne net.Error
		if _, err := io.ReadAll(c); errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: still connected", url)
		}
	}
	if err := <-errc; err == nil {
		t.Error("Accept returned no error")
	}
	if err := rt.firstErr(t); err == nil {
		t.Error("AcceptRelay returned no error")
	}
}

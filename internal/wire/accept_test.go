package wire

import (
	"errors"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
)

// scriptedListener returns its results in order, then net.ErrClosed.
type scriptedListener struct {
	net.Listener // nil: only Accept is called
	results      []acceptResult
}

type acceptResult struct {
	nc  net.Conn
	err error
}

func (l *scriptedListener) Accept() (net.Conn, error) {
	if len(l.results) == 0 {
		return nil, net.ErrClosed
	}
	r := l.results[0]
	l.results = l.results[1:]
	return r.nc, r.err
}

// acceptErr is an Accept error as the net package returns it.
func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// AcceptLoop waits out errors that pass, saying so once per spell and once
// when it accepts again, and returns any other error.
func TestAcceptLoop(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c, d := net.Pipe()
	defer c.Close()
	defer d.Close()
	permanent := acceptErr(syscall.EBADF)
	for _, tt := range []struct {
		name    string
		results []acceptResult
		handled []net.Conn
		pauses  []error // what onPause was told, in order
		err     error
	}{
		{
			name: "out of files, then a client, then a permanent error",
			results: []acceptResult{
				{err: acceptErr(syscall.EMFILE)}, {err: acceptErr(syscall.EMFILE)}, {err: acceptErr(syscall.EMFILE)},
				{nc: a},
				{err: acceptErr(syscall.ECONNABORTED)},
				{nc: c},
				{err: permanent},
				{nc: b}, // never accepted: the loop is over
			},
			handled: []net.Conn{a, c},
			pauses:  []error{syscall.EMFILE, nil, syscall.ECONNABORTED, nil},
			err:     permanent,
		},
		{
			name:    "closed listener",
			results: []acceptResult{{nc: a}},
			handled: []net.Conn{a},
		},
		{
			name:    "closed while paused",
			results: []acceptResult{{err: acceptErr(syscall.ENFILE)}},
			pauses:  []error{syscall.ENFILE},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var handled []net.Conn
			var pauses []error
			err := AcceptLoop(&scriptedListener{results: tt.results},
				func(nc net.Conn) { handled = append(handled, nc) },
				func(err error) { pauses = append(pauses, err) })
			if err != tt.err {
				t.Errorf("AcceptLoop returned %v, want %v", err, tt.err)
			}
			if !slices.Equal(handled, tt.handled) {
				t.Errorf("handled %d connections, want %d", len(handled), len(tt.handled))
			}
			if len(pauses) != len(tt.pauses) {
				t.Fatalf("onPause told %v, want %v", pauses, tt.pauses)
			}
			for i, want := range tt.pauses {
				if (want == nil) != (pauses[i] == nil) || (want != nil && !errors.Is(pauses[i], want)) {
					t.Errorf("onPause call %d: %v, want %v", i, pauses[i], want)
				}
			}
		})
	}
}

package session

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestTimedInput(t *testing.T) {
	t.Parallel()
	end := make(chan struct{})
	in := newTimedInput(strings.NewReader("a\nb\n"), end)
	got, ok := make(chan []byte, 1), make(chan bool, 1)
	go func() {
		b, err := io.ReadAll(in)
		got <- b
		ok <- err == nil
	}()
	select {
	case <-got:
		t.Fatal("EOF before the end, at stdin's end")
	case <-time.After(20 * time.Millisecond):
	}
	close(end)
	if b := <-got; string(b) != "a\nb\n" || !<-ok {
		t.Errorf("read %q", b)
	}

	// The end cuts off a stdin that never ends.
	pr, pw := io.Pipe()
	defer pw.Close()
	end = make(chan struct{})
	in = newTimedInput(pr, end)
	close(end)
	if n, err := in.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Errorf("read %d %v, want EOF", n, err)
	}
}

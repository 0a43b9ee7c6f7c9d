package e2e

import (
	"testing"

	"github.com/wscope/wscope/internal/testpeer"
)

func TestConnectEchoExitsZero(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true})
	r := run(t, "hello\nworld\n", "connect", srv.URL())
	r.expectCode(t, 0)
	if r.Stdout != "hello\nworld\n" {
		t.Fatalf("stdout %q, want the two echoes", r.Stdout)
	}
}

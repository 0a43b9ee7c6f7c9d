package session

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// addrListener is a listener that only tells its address.
type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

// A server bound to every interface says so, loudly; one on loopback does
// not.
func TestWarnEveryInterface(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ip   net.IP
		warn bool
	}{
		{net.IPv4zero, true},
		{net.IPv6unspecified, true},
		{net.IPv4(192, 0, 2, 1), true},
		{net.IPv4(127, 0, 0, 1), false},
		{net.IPv6loopback, false},
	} {
		var out, errOut bytes.Buffer
		s := newSink(&out, &errOut, FormatText, inspect.ClientToServer)
		warnEveryInterface(s, addrListener{addr: &net.TCPAddr{IP: c.ip, Port: 8080}}, "connect")
		got := errOut.String()
		if warned := strings.Contains(got, "WARNING: listening on every interface"); warned != c.warn {
			t.Errorf("%s: stderr %q, want a warning: %v", c.ip, got, c.warn)
		}
	}
}

// The default cap on connections leaves room for a load test of 50,000
// (issue 12).
func TestDefaultMaxConnsAllowsALoadTest(t *testing.T) {
	t.Parallel()
	if DefaultMaxConns < 50_000 {
		t.Errorf("DefaultMaxConns %d is below the 50,000 a load test holds", DefaultMaxConns)
	}
}

package wire

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// redirector answers every upgrade with status and Location: to.
func redirector(t *testing.T, status int, to func() string) *tp.RawServer {
	return tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.AcceptWith("HTTP/1.1 "+map[int]string{301: "301 Moved Permanently", 302: "302 Found", 307: "307 Temporary Redirect", 308: "308 Permanent Redirect"}[status],
			tp.H("Location", to()), tp.H("Content-Length", "0"))
		rc.WaitEOF(step)
	})
}

func TestDialFollowsRedirects(t *testing.T) {
	t.Parallel()
	final := tp.NewServer(t, tp.ServerOptions{Echo: true})
	second := redirector(t, 307, func() string { return strings.Replace(final.URL(), "ws://", "http://", 1) + "final" })
	first := redirector(t, 302, func() string { return "ws://" + second.Addr() + "/second" })
	u, _ := ParseURL(first.URL())
	var hops []Hop
	c, open, err := DialFollow(context.Background(), DialOptions{URL: u, Timeout: step,
		Headers: []inspect.HeaderField{{Name: "Authorization", Value: "Bearer t"}, {Name: "X-Keep", Value: "1"}}},
		Config{}, 5, func(h Hop) { hops = append(hops, h) })
	if err != nil {
		t.Fatal(err)
	}
	c.Abort()
	if len(hops) != 2 || hops[0].Status != 302 || hops[1].Status != 307 || !strings.HasSuffix(open.URL, "/final") {
		t.Fatalf("hops %+v, open %s", hops, open.URL)
	}
	req := final.Requests()[0]
	if req.Header.Get("X-Keep") != "1" || req.Header.Get("Authorization") != "" {
		t.Errorf("final request headers %v: credentials must not follow to another host", req.Header)
	}

	// A loop is cut at the limit.
	var loop *tp.RawServer
	loop = redirector(t, 301, func() string { return loop.URL() })
	u, _ = ParseURL(loop.URL())
	_, _, err = DialFollow(context.Background(), DialOptions{URL: u, Timeout: step}, Config{}, 3, nil)
	var ce *ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "more than 3 redirects") {
		t.Errorf("loop: %v", err)
	}
	// Without following, a redirect is a refused handshake.
	_, _, err = DialFollow(context.Background(), DialOptions{URL: u, Timeout: step}, Config{}, 0, nil)
	if !errors.As(err, &ce) {
		t.Errorf("max 0: %v", err)
	}
}

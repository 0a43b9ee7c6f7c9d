package wire

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/wscope/wscope/inspect"
)

// Hop is one redirect followed by DialFollow, with the handshake that
// asked for it.
type Hop struct {
	Status   int
	From, To string
	Request  *inspect.Request
	Response *inspect.Response
}

// DialFollow is Dial that follows redirects of the upgrade request (301,
// 302, 307 and 308) up to max hops, reporting each to onHop. A Location
// with http(s) is taken as ws(s). Credentials (Authorization, Cookie) are
// not sent to another host, as browsers and curl do not.
func DialFollow(ctx context.Context, opts DialOptions, cfg Config, max int, onHop func(Hop)) (*Conn, *inspect.Open, error) {
	for hops := 0; ; hops++ {
		c, open, err := Dial(ctx, opts, cfg)
		he, ok := err.(*HandshakeError)
		if !ok || !isRedirect(he.Status) || he.Problem != "" {
			return c, open, err
		}
		loc, _ := headerValue(he.Headers, "Location")
		if loc == "" {
			return nil, nil, fmt.Errorf("%w (a redirect without a Location header)", he)
		}
		if hops == max {
			return nil, nil, &ConnectError{Stage: "redirect", Err: fmt.Errorf("more than %d redirects (last: %d to %s)", max, he.Status, loc)}
		}
		next, err := opts.URL.Parse(loc)
		if err != nil {
			return nil, nil, &ConnectError{Stage: "redirect", Err: fmt.Errorf("redirect to an invalid Location %q: %v", loc, err)}
		}
		if next, err = ParseURL(next.String()); err != nil {
			return nil, nil, &ConnectError{Stage: "redirect", Err: fmt.Errorf("redirect to %q: %v", loc, err)}
		}
		if onHop != nil {
			onHop(Hop{Status: he.Status, From: opts.URL.String(), To: next.String(), Request: he.Request, Response: he.Response})
		}
		if !sameHost(opts.URL, next) {
			opts.Headers = withoutCredentials(opts.Headers)
		}
		opts.URL = next
	}
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 307, 308:
		return true
	}
	return false
}

func sameHost(a, b *url.URL) bool { return strings.EqualFold(a.Host, b.Host) }

func withoutCredentials(hs []inspect.HeaderField) []inspect.HeaderField {
	var out []inspect.HeaderField
	for _, h := range hs {
		if strings.EqualFold(h.Name, "Authorization") || strings.EqualFold(h.Name, "Cookie") {
			continue
		}
		out = append(out, h)
	}
	return out
}

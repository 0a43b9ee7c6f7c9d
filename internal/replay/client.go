package replay

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// DefaultConnectTimeout bounds the connection and the handshake when
// ClientOptions.ConnectTimeout is zero.
const DefaultConnectTimeout = 10 * time.Second

// ClientOptions say how to replay the client side of a script.
type ClientOptions struct {
	// URL is where to connect; "" means the recorded URL.
	URL string
	// Headers are added to the handshake request after the recorded ones
	// and replace recorded headers of the same name. Credentials are only
	// sent when given here.
	Headers []inspect.HeaderField
	// Subprotocols, when set, are offered instead of the recorded one
	// (and the subprotocol is then not checked).
	Subprotocols []string
	// TLS configures wss; nil verifies against the system roots.
	TLS *tls.Config
	// ConnectTimeout bounds the connection and the handshake; zero means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// NetDial replaces the TCP dial (proxies).
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Options walk the script; the peer is the server.
	Options
}

// ErrNoURL is a replay with neither a URL given nor one in the recording.
var ErrNoURL = errors.New("the recording has no URL")

// RunClient replays the client side of sc against a live server: it
// connects, sends the recorded client messages in order, and before each
// one waits for the server messages the recording had at that point and
// compares them; then it checks the close. The result lists every step and
// every mismatch. The error is for what stops the replay itself: invalid
// options, a failed connection (a *wire.ConnectError or
// *wire.HandshakeError, with no result), an unset capture, or ctx ending.
func RunClient(ctx context.Context, sc *Script, o ClientOptions) (*Result, error) {
	set, err := o.settings()
	if err != nil {
		return nil, err
	}
	raw := o.URL
	if raw == "" {
		raw = sc.URL
	}
	if raw == "" {
		return nil, ErrNoURL
	}
	u, err := wire.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	subs := o.Subprotocols
	if subs == nil && sc.Subprotocol != "" {
		subs = []string{sc.Subprotocol}
	}
	ct := o.ConnectTimeout
	if ct <= 0 {
		ct = DefaultConnectTimeout
	}
	s := newSession(sc, set, inspect.ClientToServer)
	s.res.URL = u.String()
	cfg := wire.Config{
		ID:             1,
		Start:          s.start,
		MaxMessageSize: o.MaxMessageSize,
		CloseTimeout:   set.timeout,
		OnEvent:        s.onEvent,
		OmitSent:       o.OnEvent == nil,
	}
	conn, open, err := wire.Dial(ctx, wire.DialOptions{
		URL: u, Headers: requestHeaders(sc.Headers, o.Headers), Subprotocols: subs,
		TLS: o.TLS, Timeout: ct, NetDial: o.NetDial,
	}, cfg)
	if err != nil {
		return nil, err
	}
	if o.OnEvent != nil {
		o.OnEvent(&inspect.Event{T: time.Since(s.start), Kind: inspect.KindOpen, Conn: cfg.ID, Open: open})
	}
	if o.Subprotocols != nil {
		// The user chose what to offer: the recorded choice no longer
		// applies.
		sc2 := *sc
		sc2.Subprotocol = open.Subprotocol
		s.sc = &sc2
	}
	return s.run(ctx, conn, open)
}

// notReplayed are request headers never sent again from a recording: the
// handshake's own (gobwas writes them), hop-by-hop ones, and credentials.
var notReplayed = []string{
	"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
	"Sec-WebSocket-Extensions", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol",
	"Content-Length", "Transfer-Encoding", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
	"Authorization", "Cookie", "Proxy-Authorization",
}

// requestHeaders returns the recorded request headers to send again,
// without the handshake, hop-by-hop and credential headers, nor any whose
// value was redacted, nor those extra replaces; then extra.
func requestHeaders(recorded, extra []inspect.HeaderField) []inspect.HeaderField {
	var out []inspect.HeaderField
	for _, h := range recorded {
		name := strings.TrimSpace(h.Name)
		if h.Value == inspect.Redacted ||
			slices.ContainsFunc(notReplayed, func(n string) bool { return strings.EqualFold(n, name) }) ||
			slices.ContainsFunc(extra, func(x inspect.HeaderField) bool { return strings.EqualFold(x.Name, name) }) {
			continue
		}
		out = append(out, h)
	}
	return append(out, extra...)
}

package cmd

import (
	"context"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/session"
	"github.com/wscope/wscope/internal/wire"
)

// DefaultProxyAddr is where `wscope proxy` listens unless told: loopback.
const DefaultProxyAddr = "127.0.0.1:9000"

// ProxyOptions are the flags of `wscope proxy`.
type ProxyOptions struct {
	IO       *IOStreams
	Listen   string
	Upstream string

	Headers        []string
	RewriteHost    bool
	RewriteOrigin  bool
	ConnectTimeout time.Duration
	Once           bool
	MaxConns       int
	IdleTimeout    time.Duration
	TLS            tlsOptions
	ServerTLS      serverTLSOptions
	transportOptions
	sessionOptions

	// ready, when set, is told the bound address (tests listen on :0).
	ready func(net.Addr)
	// writeTimeout replaces session.ClientWriteTimeout (tests).
	writeTimeout time.Duration
}

// proxySessionFlags are the session flags that mean something to a relay:
// it sends nothing of its own, so the sending and answering ones are left
// out, and extensions are negotiated by the peers, not by flags.
var proxySessionFlags = []string{
	"output", "binary-as", "show-control", "verbose", "max-message-size", "close-timeout",
	"record", "record-secrets", "force", "redact", "no-tui", "scrollback", "from", "op", "grep", "decode",
}

// NewCmdProxy builds `wscope proxy`.
func NewCmdProxy(ios *IOStreams, runF func(context.Context, *ProxyOptions) error) *cobra.Command {
	opts := &ProxyOptions{IO: ios}
	c := &cobra.Command{
		Use:   "proxy --upstream URL [--listen ADDR]",
		Short: "Relay real clients to a real server and show both directions",
		Long: `Accept WebSocket clients on --listen (default 127.0.0.1:9000; a bare port
means 127.0.0.1:PORT, ":PORT" every interface) and relay each one to
--upstream, showing and recording every frame of both directions in the
same formats as connect.

The relay changes nothing on the wire. Each frame is forwarded byte for
byte as soon as it has arrived: header bits, mask key, length encoding,
fragmentation, control frames between fragments, and the violations a peer
commits (the other peer sees them, as it would without the relay). Pings,
pongs and closes are the peers' business: the relay answers nothing. A
frame is held whole before it is passed on, so one larger than
--max-message-size closes both sides with 1009 (0 lifts the limit).

The handshake passes through. The client's path and query are appended to
the upstream URL's path. Its headers are sent upstream except the
handshake's own and HTTP's hop-by-hop ones. Its Host stays as it was
unless --rewrite-host, its Origin unless --rewrite-origin, and -H sets a
header whatever the client sent. Subprotocols and extensions are
negotiated end to end: the client's offer goes upstream (the same
extensions and parameters, though the optional spaces may differ) and the
upstream's answer comes back verbatim, so permessage-deflate frames pass
compressed and are shown inflated. An upstream that refuses gets its
status, headers and body passed to the client; one that cannot be reached
is a 502.

A peer, client or upstream, that takes nothing of what it is sent for 10s
is dropped with its relay: the other side would wait for it forever. At
most --max-conns clients are relayed at once (100,000 unless told); more
get 503. --idle-timeout closes both sides of a relay with 1001 Going Away
once neither has sent anything, not even a pong, for that long. A request
that breaks HTTP's syntax (a control byte in a header, a line without a
colon), or whose path has a dot segment ("/../"), gets 400 and never
reaches the upstream.

TLS: --tls-cert/--tls-key or --tls-self-signed serve wss to the clients,
and --client-ca FILE (--client-cert require|optional) asks them for a
certificate as listen does. Towards the upstream --ca, -k and --keylog work
as for connect, and --cert/--key present the proxy's own client
certificate to an upstream that requires one. In the open event, tls
describes the upstream's leg; its client_* fields the client's certificate.

In text output each data message is one line, prefixed with its
connection and direction ("[1] c2s hello"). At a terminal the TUI shows
every relayed client (no send box: the relay sends nothing of its own).
Ctrl-C closes each side with 1001 Going Away; q in the TUI with 1000.
Stderr says where the relay listens ("relaying ws://... to ...") and when
each client comes and goes.

It runs until Ctrl-C (exit status 130), or with --once until the first
client has gone, exiting with that client's status as connect would (3 when
the upstream refused it or could not be reached).`,
		Example: `  # point the app at ws://127.0.0.1:9000 instead of the real server
  wscope proxy --upstream wss://api.example.com/ws

  # every frame both ways, recorded for replay or inspect
  wscope proxy --listen 9000 --upstream ws://127.0.0.1:8080 -o frames \
    --record app.wsrec.jsonl

  # a server that checks Host and Origin, behind a corporate proxy
  wscope proxy --upstream wss://api.example.com --rewrite-host \
    --rewrite-origin --proxy http://proxy:3128`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return proxyRun(c.Context(), opts)
		},
	}
	fs := c.Flags()
	fs.StringVar(&opts.Listen, "listen", DefaultProxyAddr, "accept clients on this `ADDR`")
	fs.StringVar(&opts.Upstream, "upstream", "", "the server's `URL` (ws:// or wss://); required")
	fs.StringArrayVarP(&opts.Headers, "header", "H", nil, "set this header on every upgrade request sent upstream, replacing the client's (repeatable)")
	fs.BoolVar(&opts.RewriteHost, "rewrite-host", false, "send the upstream's host as Host instead of the client's")
	fs.BoolVar(&opts.RewriteOrigin, "rewrite-origin", false, "send the upstream's origin (https://host for wss) as Origin instead of the client's")
	fs.DurationVar(&opts.ConnectTimeout, "connect-timeout", 10*time.Second, "bound on reaching the upstream and its handshake, per client")
	fs.BoolVar(&opts.Once, "once", false, "exit after the first client disconnects, with its status (3 when the upstream refused it)")
	fs.IntVar(&opts.MaxConns, "max-conns", session.DefaultMaxConns, "refuse clients beyond this many at once with 503 (0: no limit)")
	fs.DurationVar(&opts.IdleTimeout, "idle-timeout", 0, "close both sides of a relay in which neither has sent anything for this long, with 1001 (0: never)")
	opts.TLS.addFlags(fs)
	opts.ServerTLS.addFlags(fs)
	opts.transportOptions.addFlags(fs)
	all := pflag.NewFlagSet("session", pflag.ContinueOnError)
	opts.sessionOptions.addFlags(all)
	for _, name := range proxySessionFlags {
		fs.AddFlag(all.Lookup(name))
	}
	c.MarkFlagRequired("upstream")
	return c
}

func proxyRun(ctx context.Context, opts *ProxyOptions) error {
	so, err := opts.options(inspect.RoleProxy)
	if err != nil {
		return err
	}
	up, err := wire.ParseURL(opts.Upstream)
	if err != nil {
		return usageErr("--upstream: %v", err)
	}
	headers, err := parseHeaders(opts.Headers)
	if err != nil {
		return err
	}
	if opts.ConnectTimeout <= 0 {
		return usageErr("--connect-timeout must be positive")
	}
	ios := opts.IO
	tlsConf, err := opts.TLS.config()
	if err != nil {
		return err
	}
	opts.TLS.warn(ios.ErrOut)
	dial := wire.DialOptions{Headers: headers, TLS: tlsConf, Timeout: opts.ConnectTimeout}
	if dial.NetDial, err = opts.netDial(up, tlsConf, ios.ErrOut); err != nil {
		return err
	}
	kl, err := keyLog(opts.TLS.Keylog)
	if err != nil {
		return err
	}
	serverTLS, err := opts.ServerTLS.config(ios.ErrOut, keylogWriter(kl))
	if err != nil {
		return err
	}
	return session.Proxy(ctx, &session.ProxyOptions{
		IO:           ios,
		Options:      so,
		Addr:         listenAddr(opts.Listen),
		TLS:          serverTLS,
		Relay:        wire.RelayOptions{Upstream: up, Dial: dial, RewriteHost: opts.RewriteHost, RewriteOrigin: opts.RewriteOrigin, Timeout: 10 * time.Second},
		Once:         opts.Once,
		MaxConns:     opts.MaxConns,
		IdleTimeout:  opts.IdleTimeout,
		WriteTimeout: opts.writeTimeout,
		Ready:        opts.ready,
	})
}

package cmd

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/session"
)

// DefaultListenAddr is loopback: a debugging server is not for the network
// unless the user says so.
const DefaultListenAddr = "127.0.0.1:8080"

// ListenOptions are the flags of `wscope listen`.
type ListenOptions struct {
	IO   *IOStreams
	Addr string

	Subprotocols []string
	Path         string
	Origins      []string
	MaxConns     int
	IdleTimeout  time.Duration
	Broadcast    bool
	Once         bool
	TLS          serverTLSOptions
	Keylog       string
	sessionOptions

	// ready, when set, is told the bound address (tests listen on :0).
	ready func(net.Addr)
	// writeTimeout replaces session.ClientWriteTimeout (tests).
	writeTimeout time.Duration
}

// NewCmdListen builds `wscope listen`.
func NewCmdListen(ios *IOStreams, runF func(context.Context, *ListenOptions) error) *cobra.Command {
	opts := &ListenOptions{IO: ios}
	c := &cobra.Command{
		Use:   "listen [ADDR]",
		Short: "Be a WebSocket server and show what clients send",
		Long: `Accept WebSocket clients on ADDR (default 127.0.0.1:8080; a bare port means
127.0.0.1:PORT, ":PORT" means every interface) and show what they send, in
the same formats as connect, with the connection id on each line.

Each stdin line is sent to every connected client. --echo sends each
message back to its sender with the same opcode; --broadcast sends it to
every other client. A client that takes nothing of what it is sent for 10s
is dropped, so that it does not hold up the others. Ctrl-C closes every
client with 1001 Going Away.

At most --max-conns clients are held at once (100,000 unless told); more
get 503. --idle-timeout closes a client that has sent nothing, not even a
pong, for that long, with 1001 Going Away and the reason "idle for ...".

At a terminal it opens the TUI with a list of the connections; --no-tui, or
-o frames/json, prints lines instead. Stdout carries what clients send;
stderr says where wscope listens ("listening on ws://..."), and when each
client connects and how it left. --tls-self-signed or --tls-cert serve wss.
--client-ca FILE asks each client for a certificate and verifies it against
the CA certificates in FILE (mutual TLS): with --client-cert require, the
default, a client without a valid one fails the TLS handshake (stderr says
why); with optional a client may present none. The open event records the
certificate's subject, issuer and SHA-256 fingerprint.

--record FILE.har writes a HAR instead of a recording: each connection's
entry when it ends, so a SIGKILL loses only the connections still open.

It runs until Ctrl-C (exit status 130), or with --once until the first
client has gone, exiting with that client's status as connect would: 0
after a completed close handshake with 1000, 1001 or no code from a client
that broke no rule, 4 after anything else. A client's RFC 6455 violations
are reported and counted; --strict fails its connection at the first.`,
		Example: `  # an echo server on 127.0.0.1:8080, printing what clients send
  wscope listen --echo

  # a chat-like relay on port 9000 of every interface, frames shown
  wscope listen :9000 --broadcast -o frames

  # accept only /ws from one origin, speaking one subprotocol
  wscope listen 9000 --path /ws --origin https://app.example.com -s graphql-ws

  # wss with a throwaway certificate (its fingerprint is printed)
  wscope listen 8443 --tls-self-signed --echo

  # mutual TLS: only clients with a certificate from clients-ca.pem
  wscope listen 8443 --tls-cert server.pem --tls-key server-key.pem \
    --client-ca clients-ca.pem --echo -o frames

  # record one client's session, then exit with its status
  wscope listen 9000 --once --record client.wsrec.jsonl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Addr = DefaultListenAddr
			if len(args) == 1 {
				opts.Addr = args[0]
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return listenRun(c.Context(), opts)
		},
	}
	fs := c.Flags()
	fs.StringSliceVarP(&opts.Subprotocols, "subprotocol", "s", nil, "accept this subprotocol when a client offers it (repeatable or comma-separated; the first one the client offers that is listed here is chosen)")
	fs.StringVar(&opts.Path, "path", "", "upgrade only requests for this path; others get 404")
	fs.StringSliceVar(&opts.Origins, "origin", nil, "allow only these Origin values (repeatable); others get 403")
	fs.IntVar(&opts.MaxConns, "max-conns", session.DefaultMaxConns, "refuse clients beyond this many at once with 503 (0: no limit)")
	fs.DurationVar(&opts.IdleTimeout, "idle-timeout", 0, "close a client that has sent nothing for this long, with 1001 (0: never)")
	fs.BoolVar(&opts.Broadcast, "broadcast", false, "send every message to every other client")
	fs.BoolVar(&opts.Once, "once", false, "exit after the first client disconnects, with its status")
	opts.TLS.addFlags(fs)
	fs.StringVar(&opts.Keylog, "keylog", "", "append TLS secrets to `FILE` for Wireshark (default: $SSLKEYLOGFILE)")
	opts.sessionOptions.addFlags(fs)
	return c
}

// listenAddr turns "8080" into "127.0.0.1:8080"; anything with a colon is
// taken as given.
func listenAddr(s string) string {
	if !strings.Contains(s, ":") {
		return "127.0.0.1:" + s
	}
	return s
}

func listenRun(ctx context.Context, opts *ListenOptions) error {
	so, err := opts.options(inspect.RoleServer)
	if err != nil {
		return err
	}
	kl, err := keyLog(opts.Keylog)
	if err != nil {
		return err
	}
	tlsConf, err := opts.TLS.config(opts.IO.ErrOut, keylogWriter(kl))
	if err != nil {
		return err
	}
	return session.Listen(ctx, &session.ListenOptions{
		IO:           opts.IO,
		Options:      so,
		Addr:         listenAddr(opts.Addr),
		TLS:          tlsConf,
		Subprotocols: opts.Subprotocols,
		Path:         opts.Path,
		Origins:      opts.Origins,
		MaxConns:     opts.MaxConns,
		IdleTimeout:  opts.IdleTimeout,
		Broadcast:    opts.Broadcast,
		Once:         opts.Once,
		WriteTimeout: opts.writeTimeout,
		Ready:        opts.ready,
	})
}

// keylogWriter keeps a nil *os.File from becoming a non-nil io.Writer.
func keylogWriter(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}

package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/httphead"

	"github.com/wscope/wscope/inspect"
)

// maxHandshake bounds the bytes of a handshake request or response head.
const maxHandshake = 64 << 10

// maxErrorBody bounds the body kept from a refused handshake: servers say
// why in it, but not in megabytes.
const maxErrorBody = 4 << 10

// HandshakeError is a handshake that did not end in a valid upgrade: a
// status other than 101, or a 101 that breaks section 4.1.
type HandshakeError struct {
	Status   int
	Reason   string // the status line's reason phrase
	Headers  []inspect.HeaderField
	Body     []byte           // at most 4 KiB
	Problem  string           // what was wrong with a 101; empty for other statuses
	Request  *inspect.Request // what was sent, when known
	Response *inspect.Response
}

func (e *HandshakeError) Error() string {
	switch {
	case e.Problem != "":
		return "invalid upgrade response: " + e.Problem
	case e.Status >= 200 && e.Status < 300:
		// A plain web server that ignored the Upgrade header.
		return fmt.Sprintf("not a WebSocket endpoint: the server answered the upgrade with HTTP %d %s", e.Status, e.Reason)
	}
	return fmt.Sprintf("handshake refused: HTTP %d %s", e.Status, e.Reason)
}

// ConnectError is a failure before any HTTP was exchanged: DNS, TCP, TLS.
type ConnectError struct {
	Stage string // "dns", "tcp", "tls", "timeout"
	// Cert says what was wrong with the server's certificate, when that
	// is why TLS failed.
	Cert CertProblem
	Err  error
}

// CertProblem is what a TLS client refused in a server's certificate,
// or what the server refused in the client's.
type CertProblem uint8

// The certificate problems a ConnectError names.
const (
	CertOK        CertProblem = iota
	CertWrongName             // valid, but not for the host dialled
	CertUntrusted             // not signed by a trusted authority, or invalid
	// CertClientRefused is the server refusing the client's certificate,
	// or its absence (mutual TLS).
	CertClientRefused
)

func (e *ConnectError) Error() string { return e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// headerList writes ordered request headers; gobwas takes any io.WriterTo.
type headerList []inspect.HeaderField

func (hs headerList) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	for _, h := range hs {
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteString("\r\n")
	}
	return b.WriteTo(w)
}

// teeConn is the connection under every Conn. During the handshake it
// records the bytes both ways, up to a bound, so the open event shows the
// request and response exactly as sent; afterwards it reports each read
// that brought bytes (onRead), which keeps the close handshake alive while
// replies are still arriving.
type teeConn struct {
	net.Conn
	on         bool
	sent, recv bytes.Buffer
	onRead     func()
	// writeTimeout, when set, bounds every write; one that runs out calls
	// onStall (the peer stopped taking what it is sent).
	writeTimeout time.Duration
	onStall      func()
}

func (t *teeConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if t.on && t.recv.Len() < maxHandshake {
		t.recv.Write(p[:n])
	}
	if n > 0 && t.onRead != nil {
		t.onRead()
	}
	return n, err
}

func (t *teeConn) Write(p []byte) (int, error) {
	if t.on && t.sent.Len() < maxHandshake {
		t.sent.Write(p)
	}
	if t.writeTimeout <= 0 {
		return t.Conn.Write(p)
	}
	start := time.Now()
	t.Conn.SetWriteDeadline(start.Add(t.writeTimeout))
	n, err := t.Conn.Write(p)
	// Only our own deadline is a stall: a close that cut the write short
	// set a deadline of its own.
	if errors.Is(err, os.ErrDeadlineExceeded) && t.onStall != nil && time.Since(start) >= t.writeTimeout {
		t.onStall()
	}
	return n, err
}

// parseHead splits an HTTP head into its start line's three parts and the
// ordered headers. It stops at the blank line; what follows is ignored.
func parseHead(raw []byte) (first [3]string, hs []inspect.HeaderField, complete bool) {
	r := bufio.NewReader(bytes.NewReader(raw))
	line, err := r.ReadString('\n')
	if err != nil && line == "" {
		return first, nil, false
	}
	parts := strings.SplitN(strings.TrimRight(line, "\r\n"), " ", 3)
	copy(first[:], parts)
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return first, hs, err == nil
		}
		name, value, _ := strings.Cut(line, ":")
		// OWS is spaces and tabs (RFC 9110 section 5.6.3), not every
		// Unicode space: a value keeps what the peer sent.
		hs = append(hs, inspect.HeaderField{Name: name, Value: strings.Trim(value, " \t")})
		if err != nil {
			return first, hs, false
		}
	}
}

func parseRequest(raw []byte) inspect.Request {
	first, hs, _ := parseHead(raw)
	return inspect.Request{Method: first[0], Target: first[1], Proto: first[2], Headers: hs}
}

func parseResponse(raw []byte) inspect.Response {
	first, hs, _ := parseHead(raw)
	status, _ := strconv.Atoi(first[1])
	return inspect.Response{Proto: first[0], Status: status, Reason: first[2], Headers: hs}
}

// headerValue returns the first value of the named header.
func headerValue(hs []inspect.HeaderField, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// extensions converts negotiated options to the event form.
func extensions(opts []httphead.Option) []inspect.Extension {
	var xs []inspect.Extension
	for _, o := range opts {
		x := inspect.Extension{Name: string(o.Name)}
		o.Parameters.ForEach(func(k, v []byte) bool {
			x.Params = append(x.Params, inspect.HeaderField{Name: string(k), Value: string(v)})
			return true
		})
		xs = append(xs, x)
	}
	return xs
}

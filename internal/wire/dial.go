package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"

	"github.com/wscope/wscope/inspect"
)

// DialOptions says how to reach a server and what to ask of it.
type DialOptions struct {
	URL *url.URL
	// Headers are added to the upgrade request in order. A Host header
	// replaces the one taken from the URL.
	Headers      []inspect.HeaderField
	Subprotocols []string
	// TLS configures wss; nil verifies against the system roots.
	TLS *tls.Config
	// Timeout bounds the TCP connect, TLS and the HTTP handshake together.
	Timeout time.Duration
	// NetDial replaces the TCP dial (proxies, unix sockets); it must
	// return the plain connection: TLS is added on top.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Compress offers permessage-deflate (RFC 7692) with these
	// parameters; nil offers nothing.
	Compress *Compression
	// PassExtensions is a Sec-WebSocket-Extensions offer made on someone
	// else's behalf (a relay's client): it is sent as offered and the
	// answer is left to that client to judge. It excludes Compress.
	PassExtensions string
}

// ParseURL reads a WebSocket URL. http and https are taken as ws and wss,
// a bare host[:port] as ws. Fragments are refused: section 3 of RFC 6455
// forbids them and servers never see them.
func ParseURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "ws://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %v", s, errors.Unwrap(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("invalid URL %q: scheme must be ws or wss, not %q", s, u.Scheme)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, fmt.Errorf("invalid URL %q: WebSocket URLs cannot have a #fragment (RFC 6455 section 3); encode '#' as %%23", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: no host", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("invalid URL %q: port %s is not a number from 1 to 65535", s, p)
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// Dial connects, performs the opening handshake and returns the
// connection with its open event. Errors are *ConnectError before HTTP and
// *HandshakeError after.
func Dial(ctx context.Context, opts DialOptions, cfg Config) (*Conn, *inspect.Open, error) {
	u, err := handshake(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	c := newConn(u.nc, u.br, inspect.RoleClient, cfg)
	c.setDeflate(u.agreed)
	return c, u.open, nil
}

// upgraded is a connection whose opening handshake succeeded.
type upgraded struct {
	nc     *teeConn
	br     *bufio.Reader // holds frames the peer sent right behind the handshake
	open   *inspect.Open
	agreed *Compression // permessage-deflate as negotiated; nil without
}

// handshake dials and performs the client's side of the opening handshake.
func handshake(ctx context.Context, opts DialOptions) (*upgraded, error) {
	var (
		tee     *teeConn
		tlsConn *tls.Conn
		refused *HandshakeError
		host    string
		hdrs    headerList
	)
	for _, h := range opts.Headers {
		if strings.EqualFold(h.Name, "Host") {
			host = h.Value
			continue
		}
		hdrs = append(hdrs, h)
	}
	d := ws.Dialer{
		ReadBufferSize:  bufSize,
		WriteBufferSize: 4096,
		Timeout:         opts.Timeout,
		Protocols:       opts.Subprotocols,
		Header:          hdrs,
		Host:            host,
		TLSConfig:       opts.TLS,
		NetDial:         opts.NetDial,
		WrapConn: func(c net.Conn) net.Conn {
			tlsConn, _ = c.(*tls.Conn)
			tee = &teeConn{Conn: c, on: true}
			return tee
		},
		OnStatusError: func(status int, reason []byte, resp io.Reader) {
			refused = readRefusal(tee, status, string(reason), resp)
		},
	}
	if opts.Compress != nil {
		if err := opts.Compress.Check(); err != nil {
			return nil, fmt.Errorf("permessage-deflate: %w", err)
		}
		d.Extensions = []httphead.Option{opts.Compress.offer()}
	}
	if opts.PassExtensions != "" {
		offer, ok := httphead.ParseOptions([]byte(opts.PassExtensions), nil)
		if !ok {
			return nil, fmt.Errorf("malformed Sec-WebSocket-Extensions offer %q", opts.PassExtensions)
		}
		d.Extensions = offer
	}
	start := time.Now()
	nc, br, hs, err := d.Dial(ctx, opts.URL.String())
	if err != nil {
		return nil, dialError(err, tee, refused, opts)
	}
	tee.on = false
	resp := parseResponse(tee.recv.Bytes())
	var agreed *Compression
	if opts.PassExtensions == "" {
		agreed, err = checkAnswer(opts.Compress, resp.Headers)
	}
	if err != nil {
		nc.Close()
		return nil, &HandshakeError{Status: resp.Status, Reason: resp.Reason, Headers: resp.Headers, Problem: err.Error(), Response: &resp}
	}
	open := &inspect.Open{
		URL:         opts.URL.String(),
		Role:        inspect.RoleClient,
		Request:     parseRequest(tee.sent.Bytes()),
		Response:    resp,
		Subprotocol: hs.Protocol,
		Extensions:  extensions(hs.Extensions),
		Local:       nc.LocalAddr().String(),
		Remote:      nc.RemoteAddr().String(),
		Start:       start,
	}
	if tlsConn != nil {
		open.TLS = tlsInfo(tlsConn.ConnectionState())
	}
	tee.sent.Reset()
	tee.recv.Reset()
	// Bytes the server sent right behind the 101 are in br: they are the
	// first frames, so keep reading through it when there is one.
	return &upgraded{nc: tee, br: br, open: open, agreed: agreed}, nil
}

func tlsInfo(st tls.ConnectionState) *inspect.TLSInfo {
	t := &inspect.TLSInfo{
		Version: tls.VersionName(st.Version),
		Cipher:  tls.CipherSuiteName(st.CipherSuite),
		SNI:     st.ServerName,
	}
	if len(st.PeerCertificates) > 0 {
		t.PeerSubject = st.PeerCertificates[0].Subject.String()
	}
	return t
}

// clientCertAlert reports whether a TLS alert from the server refuses the
// client's certificate, or its absence (RFC 8446 section 6.2: alerts 42
// bad_certificate, 48 unknown_ca, 116 certificate_required; Go's tls
// names them but does not export their type). Over TLS 1.3 it arrives
// after the client's handshake has finished, on the first read.
func clientCertAlert(alert error) bool {
	switch alert.Error() {
	case "tls: bad certificate", "tls: unknown certificate authority", "tls: certificate required":
		return true
	}
	return false
}

// readRefusal keeps what a server said when it refused the upgrade: the
// status, the headers in order and the start of the body.
func readRefusal(tee *teeConn, status int, reason string, resp io.Reader) *HandshakeError {
	e := &HandshakeError{Status: status, Reason: reason}
	if tee != nil {
		// The body is optional; do not wait long for one.
		tee.SetReadDeadline(time.Now().Add(2 * time.Second))
	}
	hr, err := http.ReadResponse(bufio.NewReader(resp), nil)
	if err == nil {
		e.Body, _ = io.ReadAll(io.LimitReader(hr.Body, maxErrorBody))
		hr.Body.Close()
	}
	if tee != nil {
		r := parseResponse(tee.recv.Bytes())
		q := parseRequest(tee.sent.Bytes())
		e.Headers = r.Headers
		e.Request, e.Response = &q, &r
	}
	return e
}

func dialError(err error, tee *teeConn, refused *HandshakeError, opts DialOptions) error {
	if refused != nil {
		return refused
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce // from NetDial (a proxy): already explained
	}
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		certErr *tls.CertificateVerificationError
		hostErr x509.HostnameError
		authErr x509.UnknownAuthorityError
		invErr  x509.CertificateInvalidError
		alert   tls.AlertError
		recErr  tls.RecordHeaderError
	)
	host := opts.URL.Host
	switch {
	case errors.As(err, &dnsErr):
		return &ConnectError{Stage: "dns", Err: fmt.Errorf("could not resolve %s: %v", dnsErr.Name, dnsErr.Err)}
	case errors.As(err, &hostErr):
		return &ConnectError{Stage: "tls", Cert: CertWrongName, Err: fmt.Errorf("TLS: certificate does not match %s: %v", host, hostErr)}
	case errors.As(err, &authErr), errors.As(err, &invErr), errors.As(err, &certErr):
		return &ConnectError{Stage: "tls", Cert: CertUntrusted, Err: fmt.Errorf("TLS: certificate of %s not trusted: %v", host, err)}
	case errors.As(err, &opErr) && opErr.Op == "remote error" && clientCertAlert(opErr.Err):
		return &ConnectError{Stage: "tls", Cert: CertClientRefused, Err: fmt.Errorf("TLS: %s requires a client certificate it trusts: %v", host, err)}
	case errors.As(err, &alert), errors.As(err, &recErr):
		return &ConnectError{Stage: "tls", Err: fmt.Errorf("TLS handshake with %s failed: %v", host, err)}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		if tee == nil {
			return &ConnectError{Stage: "timeout", Err: fmt.Errorf("could not connect to %s within %s", host, opts.Timeout)}
		}
		return &ConnectError{Stage: "timeout", Err: fmt.Errorf("no handshake response from %s within %s", host, opts.Timeout)}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return &ConnectError{Stage: "tcp", Err: fmt.Errorf("could not connect to %s: %v", host, opErr.Err)}
	}
	if tee == nil {
		return &ConnectError{Stage: "tcp", Err: err}
	}
	return upgradeError(err, tee, opts)
}

// upgradeError explains a 101 that breaks section 4.1 of RFC 6455, or an
// answer that is no 101 at all (an HTTP/1.0 server ignoring the upgrade).
func upgradeError(err error, tee *teeConn, opts DialOptions) error {
	resp := parseResponse(tee.recv.Bytes())
	req := parseRequest(tee.sent.Bytes())
	if resp.Status != 0 && resp.Status != 101 {
		body := tee.recv.Bytes()
		if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
			body = body[i+4:]
		} else {
			body = nil
		}
		return &HandshakeError{Status: resp.Status, Reason: resp.Reason, Headers: resp.Headers, Body: bytes.Clone(body[:min(len(body), maxErrorBody)]), Request: &req, Response: &resp}
	}
	got := func(name string) string {
		v, ok := headerValue(resp.Headers, name)
		if !ok {
			return "missing"
		}
		return fmt.Sprintf("%q", v)
	}
	var problem string
	switch err {
	case ws.ErrHandshakeBadSecAccept:
		key, _ := headerValue(req.Headers, "Sec-WebSocket-Key")
		problem = fmt.Sprintf("Sec-WebSocket-Accept is %s, expected %q", got("Sec-WebSocket-Accept"), acceptKey(key))
	case ws.ErrHandshakeBadUpgrade:
		problem = fmt.Sprintf("Upgrade header is %s, expected \"websocket\"", got("Upgrade"))
	case ws.ErrHandshakeBadConnection:
		problem = fmt.Sprintf("Connection header is %s, expected \"Upgrade\"", got("Connection"))
	case ws.ErrHandshakeBadSubProtocol:
		offered := "none"
		if len(opts.Subprotocols) > 0 {
			offered = strings.Join(opts.Subprotocols, ", ")
		}
		problem = fmt.Sprintf("server selected subprotocol %s, which the client did not offer (offered: %s)", got("Sec-WebSocket-Protocol"), offered)
	case ws.ErrHandshakeBadExtensions:
		problem = fmt.Sprintf("server selected extensions %s, which the client did not offer", got("Sec-WebSocket-Extensions"))
	case ws.ErrHandshakeBadProtocol:
		problem = fmt.Sprintf("response is not HTTP/1.1 (%s)", resp.Proto)
	case ws.ErrMalformedResponse:
		problem = "malformed HTTP response"
	default:
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &ConnectError{Stage: "tcp", Err: fmt.Errorf("%s closed the connection during the handshake", opts.URL.Host)}
		}
		return &ConnectError{Stage: "tcp", Err: err}
	}
	return &HandshakeError{Status: resp.Status, Reason: resp.Reason, Headers: resp.Headers, Problem: problem, Request: &req, Response: &resp}
}

// acceptKey computes Sec-WebSocket-Accept for key (section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

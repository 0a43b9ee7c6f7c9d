package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/wscope/wscope/inspect"
)

// AcceptOptions says which upgrades a server takes.
type AcceptOptions struct {
	// Subprotocols the server speaks; the first one the client offers
	// that is in this list is selected.
	Subprotocols []string
	// Path, when set, is the only request path upgraded; others get 404.
	Path string
	// Origins, when set, is the allow-list for the Origin header; others
	// get 403.
	Origins []string
	// Timeout bounds reading the request and writing the response.
	Timeout time.Duration
	// URL is recorded in the open event (e.g. ws://127.0.0.1:8080).
	URL string
	// Compress accepts permessage-deflate (RFC 7692) when a client offers
	// it, with these settings for the server's side; nil declines it.
	Compress *Compression
}

// RejectError is an upgrade request the server refused, with the status
// it answered.
type RejectError struct {
	Status  int
	Reason  string
	Problem string // what was wrong with a malformed request, when that was why
}

func (e *RejectError) Error() string {
	if e.Problem != "" {
		return fmt.Sprintf("refused upgrade: %d %s: %s", e.Status, e.Reason, e.Problem)
	}
	return fmt.Sprintf("refused upgrade: %d %s", e.Status, e.Reason)
}

// Accept reads an upgrade request from nc and answers it. It keeps the
// reader that holds any frame the client sent right behind its request,
// which gobwas' Upgrader would drop.
func Accept(nc net.Conn, opts AcceptOptions, cfg Config) (*Conn, *inspect.Open, error) {
	start := time.Now()
	if opts.Timeout > 0 {
		nc.SetDeadline(start.Add(opts.Timeout))
		defer nc.SetDeadline(time.Time{})
	}
	tc := &teeConn{Conn: nc}
	var br *bufio.Reader
	if cfg.PoolBuffers {
		br = pooledReader(tc)
		defer func() {
			if br != nil {
				releaseReader(br) // no connection took it
			}
		}()
	} else {
		br = bufio.NewReaderSize(tc, bufSize)
	}
	head, err := readHead(br)
	if err != nil {
		if len(head) > 0 {
			Refuse(nc, 400, "Bad Request", err.Error())
		}
		return nil, nil, err
	}
	if err := checkRequestHead(head); err != nil {
		return nil, nil, refuseMalformed(nc, "", err)
	}
	req := parseRequest(head)
	if up, _ := headerValue(req.Headers, "Upgrade"); !strings.EqualFold(strings.TrimSpace(up), "websocket") {
		// A browser or curl that came here by mistake gets told what this is.
		return nil, nil, refuseNotWebSocket(nc, "This is a WebSocket endpoint: connect with a WebSocket client, e.g. wscope connect "+opts.URL+req.Target+"\n")
	}
	path, _, _ := strings.Cut(req.Target, "?")
	if opts.Path != "" && path != opts.Path {
		return nil, nil, Refuse(nc, 404, "Not Found", fmt.Sprintf("no WebSocket endpoint at %s (try %s)\n", path, opts.Path))
	}
	if len(opts.Origins) > 0 {
		origin, _ := headerValue(req.Headers, "Origin")
		if !slices.ContainsFunc(opts.Origins, func(o string) bool { return strings.EqualFold(o, origin) }) {
			return nil, nil, Refuse(nc, 403, "Forbidden", fmt.Sprintf("origin %q is not allowed\n", origin))
		}
	}
	var resp bytes.Buffer
	u := ws.Upgrader{
		Protocol: func(p []byte) bool { return slices.Contains(opts.Subprotocols, string(p)) },
	}
	var agreed *Compression
	if opts.Compress != nil {
		// Our own negotiation: wsflate's Negotiate keeps state across
		// upgrades and declines browser offers.
		if agreed = negotiate(opts.Compress, req.Headers); agreed != nil {
			u.Header = ws.HandshakeHeaderString("Sec-WebSocket-Extensions: " + agreed.String() + "\r\n")
		}
	}
	// The upgrader reads only the head we give it, and writes the response
	// through a tee so the open event shows it as sent.
	rw := struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(head), io.MultiWriter(nc, &resp)}
	hs, err := u.Upgrade(rw)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade from %s failed: %w", nc.RemoteAddr(), err)
	}
	open := &inspect.Open{
		URL:         opts.URL + req.Target,
		Role:        inspect.RoleServer,
		Request:     req,
		Response:    parseResponse(resp.Bytes()),
		Subprotocol: hs.Protocol,
		Extensions:  extensions(hs.Extensions),
		Local:       nc.LocalAddr().String(),
		Remote:      nc.RemoteAddr().String(),
		Start:       start,
	}
	if agreed != nil {
		open.Extensions = append(open.Extensions, agreed.ext())
	}
	c := newConn(tc, br, inspect.RoleServer, cfg)
	br = nil
	c.setDeflate(agreed)
	return c, open, nil
}

// readHead reads an HTTP request head up to and including its blank line.
func readHead(br *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		if len(head) > maxHandshake {
			return head, fmt.Errorf("request head larger than %d bytes", maxHandshake)
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if len(head) == 0 {
				return nil, err
			}
			return head, fmt.Errorf("incomplete request head: %w", err)
		}
		if len(line) <= 2 && strings.TrimRight(string(line), "\r\n") == "" {
			return head, nil
		}
	}
}

// refuseNotWebSocket answers a request that is no upgrade with 426 (RFC
// 9110 section 15.5.22) and body, and closes the connection.
func refuseNotWebSocket(nc net.Conn, body string) error {
	fmt.Fprintf(nc, "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	nc.Close()
	return &RejectError{Status: 426, Reason: "Upgrade Required: not a WebSocket request"}
}

// refuseMalformed answers a request that breaks HTTP's syntax with 400
// and the problem, after prefix, as its body.
func refuseMalformed(nc net.Conn, prefix string, problem error) error {
	Refuse(nc, 400, "Bad Request", prefix+problem.Error()+"\n")
	return &RejectError{Status: 400, Reason: "Bad Request", Problem: problem.Error()}
}

// RefuseBusy answers a client the server has no room for with 503 and
// body. It reads the client's request head first, at most for timeout and
// without keeping it: a socket closed with bytes unread is reset, and the
// reset could destroy the answer before the client reads it.
func RefuseBusy(nc net.Conn, timeout time.Duration, body string) error {
	nc.SetReadDeadline(time.Now().Add(timeout))
	br := bufio.NewReaderSize(nc, 4096)
	for n := 0; n < maxHandshake; {
		line, err := br.ReadSlice('\n')
		n += len(line)
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			break
		}
		if err == nil && len(line) <= 2 && strings.TrimRight(string(line), "\r\n") == "" {
			break
		}
	}
	return Refuse(nc, 503, "Service Unavailable", body)
}

// Refuse answers a request with a plain-text error response and closes
// the connection. It returns the matching *RejectError.
func Refuse(nc net.Conn, status int, reason, body string) error {
	fmt.Fprintf(nc, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, reason, len(body), body)
	nc.Close()
	return &RejectError{Status: status, Reason: reason}
}

// AcceptLoop accepts connections on ln and hands each to handle (which
// must not block) until ln is closed, then returns nil. Errors that pass
// (out of file descriptors, a connection aborted before it was accepted)
// are waited out with a growing pause and reported to onPause once per
// spell, with nil when accepting works again; any other error is
// returned.
func AcceptLoop(ln net.Listener, handle func(net.Conn), onPause func(error)) error {
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !passingAcceptError(err) {
				return err
			}
			if pause == 0 && onPause != nil {
				onPause(err)
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			time.Sleep(pause)
			continue
		}
		if pause > 0 && onPause != nil {
			onPause(nil)
		}
		pause = 0
		handle(nc)
	}
}

// passingAcceptError reports whether an Accept error is one that goes away
// by itself: the process or the system out of file descriptors or memory
// for a moment, or a client gone before it was accepted.
func passingAcceptError(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED, syscall.ENOBUFS, syscall.ENOMEM, syscall.EAGAIN, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

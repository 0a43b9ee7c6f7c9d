package testpeer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// maxHead bounds an HTTP request or response head read by the raw peers.
const maxHead = 64 << 10

// HeaderField is one HTTP header line, kept in order and spelled as sent,
// so tests can see duplicates, order and case.
type HeaderField struct{ Name, Value string }

// H builds a HeaderField.
func H(name, value string) HeaderField { return HeaderField{name, value} }

// Head is an HTTP request or response head as it was on the wire.
type Head struct {
	// Line is the request line or the status line, without CRLF.
	Line    string
	Headers []HeaderField
	// Raw is the whole head, blank line included.
	Raw []byte
}

// Get returns the first value of the header name (case-insensitive), or "".
func (h Head) Get(name string) string {
	for _, f := range h.Headers {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns every value of the header name (case-insensitive), in order.
func (h Head) Values(name string) []string {
	var v []string
	for _, f := range h.Headers {
		if strings.EqualFold(f.Name, name) {
			v = append(v, f.Value)
		}
	}
	return v
}

// RawRequest is an upgrade request as received (RawServer) or as sent
// (DialRaw).
type RawRequest struct {
	Head
	Method, Target, Proto string
}

// RawResponse is a handshake response as DialRaw received it.
type RawResponse struct {
	Head
	Proto  string
	Status int // 0 when the status line is not HTTP-shaped
	Reason string
}

// readHead reads lines up to and including the blank line, bounded by
// maxHead. Bare LF line endings are accepted.
func readHead(br *bufio.Reader) (Head, error) {
	var h Head
	var raw bytes.Buffer
	first := true
	for {
		line, err := br.ReadSlice('\n')
		raw.Write(line)
		if raw.Len() > maxHead {
			return h, fmt.Errorf("testpeer: HTTP head longer than %d bytes", maxHead)
		}
		if err != nil {
			if err == bufio.ErrBufferFull {
				continue
			}
			return h, fmt.Errorf("testpeer: reading HTTP head: %w (read %q)", noEOF(err), raw.Bytes())
		}
		s := strings.TrimRight(string(line), "\r\n")
		if first {
			h.Line = s
			first = false
			continue
		}
		if s == "" {
			break
		}
		name, value, _ := strings.Cut(s, ":")
		h.Headers = append(h.Headers, HeaderField{name, strings.TrimSpace(value)})
	}
	h.Raw = raw.Bytes()
	return h, nil
}

func writeHead(line string, headers []HeaderField) []byte {
	var b bytes.Buffer
	b.WriteString(line)
	b.WriteString("\r\n")
	for _, f := range headers {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func parseRequest(h Head) RawRequest {
	r := RawRequest{Head: h}
	parts := strings.SplitN(h.Line, " ", 3)
	if len(parts) == 3 {
		r.Method, r.Target, r.Proto = parts[0], parts[1], parts[2]
	}
	return r
}

func parseResponse(h Head) RawResponse {
	r := RawResponse{Head: h}
	parts := strings.SplitN(h.Line, " ", 3)
	if len(parts) >= 2 {
		r.Proto = parts[0]
		r.Status, _ = strconv.Atoi(parts[1])
		if len(parts) == 3 {
			r.Reason = parts[2]
		}
	}
	return r
}

// RawConn is one end of a connection driven by hand: the test writes the
// handshake and the frames byte by byte and reads the other side's frames
// with this package's own parser. Its methods return errors instead of
// failing the test, so they may be used from a RawServer handler; every
// read and write is bounded in time.
type RawConn struct {
	conn   net.Conn
	br     *bufio.Reader
	server bool
	req    RawRequest
	resp   RawResponse

	wmu          sync.Mutex
	writeTimeout time.Duration // 0: DefaultTimeout
}

// SetWriteTimeout bounds each later write instead of DefaultTimeout: a
// test that moves tens of megabytes through a race-built wscope on a
// loaded machine needs more than a step's bound.
func (rc *RawConn) SetWriteTimeout(d time.Duration) {
	rc.wmu.Lock()
	rc.writeTimeout = d
	rc.wmu.Unlock()
}

// Request returns the upgrade request: as received on the server side, as
// sent on the client side.
func (rc *RawConn) Request() RawRequest { return rc.req }

// Response returns the handshake response a DialRaw client received. It is
// empty on the server side.
func (rc *RawConn) Response() RawResponse { return rc.resp }

// NetConn returns the TCP connection, for anything the methods do not cover.
func (rc *RawConn) NetConn() net.Conn { return rc.conn }

// Accept writes a correct 101 response (Upgrade, Connection and the
// Sec-WebSocket-Accept computed from the request's key) followed by extra,
// in order: a subprotocol or an extension the test chooses, for instance.
func (rc *RawConn) Accept(extra ...HeaderField) error {
	if !rc.server {
		return errors.New("testpeer: Accept on the client side")
	}
	h := append([]HeaderField{
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Accept", AcceptKey(rc.req.Get("Sec-WebSocket-Key"))},
	}, extra...)
	return rc.WriteRaw(writeHead("HTTP/1.1 101 Switching Protocols", h))
}

// AcceptWith writes statusLine (without CRLF), exactly the headers given,
// and the blank line: a wrong accept key, a missing Upgrade, an unoffered
// subprotocol or extension. A body, if any, follows with WriteRaw.
func (rc *RawConn) AcceptWith(statusLine string, headers ...HeaderField) error {
	return rc.WriteRaw(writeHead(statusLine, headers))
}

// Reject refuses the handshake: status with its standard reason phrase,
// headers, then Content-Type, Content-Length and Connection: close, then
// body, all in one write. The connection stays open until the handler
// returns or CloseTCP.
func (rc *RawConn) Reject(status int, body string, headers ...HeaderField) error {
	h := append(append([]HeaderField(nil), headers...),
		HeaderField{"Content-Type", "text/plain; charset=utf-8"},
		HeaderField{"Content-Length", strconv.Itoa(len(body))},
		HeaderField{"Connection", "close"})
	b := writeHead(fmt.Sprintf("HTTP/1.1 %d %s", status, http.StatusText(status)), h)
	return rc.WriteRaw(append(b, body...))
}

// WriteRaw writes b in a single write, bounded by DefaultTimeout.
func (rc *RawConn) WriteRaw(b []byte) error {
	rc.wmu.Lock()
	defer rc.wmu.Unlock()
	d := rc.writeTimeout
	if d == 0 {
		d = DefaultTimeout
	}
	if err := rc.conn.SetWriteDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	_, err := rc.conn.Write(b)
	return err
}

// WriteFrame writes one frame built from f, exactly as specified.
func (rc *RawConn) WriteFrame(f FrameSpec) error { return rc.WriteRaw(f.Bytes()) }

// WriteFrames writes several frames in a single write.
func (rc *RawConn) WriteFrames(fs ...FrameSpec) error { return rc.WriteRaw(Frames(fs...)) }

// ReadFrame reads one frame from the peer and unmasks it. Control frames
// are returned like any other: nothing is answered automatically. A frame
// declaring more than MaxFramePayload bytes is an error.
func (rc *RawConn) ReadFrame(timeout time.Duration) (Frame, error) {
	if err := rc.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return Frame{}, err
	}
	return readFrame(rc.br)
}

// ReadMessage reads frames until a data message is complete and returns
// it with its frames. Control frames in between are returned in the same
// list but not answered.
func (rc *RawConn) ReadMessage(timeout time.Duration) (Msg, []Frame, error) {
	deadline := time.Now().Add(timeout)
	var frames []Frame
	var m Msg
	started := false
	for {
		f, err := rc.ReadFrame(time.Until(deadline))
		if err != nil {
			return m, frames, err
		}
		frames = append(frames, f)
		if f.Op.IsControl() {
			continue
		}
		if !started {
			m.Binary = f.Op == inspect.OpBinary
			started = true
		}
		m.Data = append(m.Data, f.Payload...)
		if f.Fin {
			return m, frames, nil
		}
	}
}

// WaitEOF reads and discards until the peer ends the TCP stream. It returns
// the bytes it discarded and nil on a clean EOF, or an error on a reset or
// when timeout passes first.
func (rc *RawConn) WaitEOF(timeout time.Duration) ([]byte, error) {
	if err := rc.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc.br)
	return b, err
}

// CloseWrite half-closes the connection: a FIN goes out, reading goes on.
func (rc *RawConn) CloseWrite() error {
	if tc, ok := rc.conn.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return errors.New("testpeer: not a TCP connection")
}

// CloseTCP closes the connection without a close handshake: the peer sees
// a FIN.
func (rc *RawConn) CloseTCP() error { return rc.conn.Close() }

// Reset aborts the connection with SO_LINGER 0, so the peer sees an RST
// instead of a FIN.
func (rc *RawConn) Reset() error {
	if tc, ok := rc.conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	return rc.conn.Close()
}

// RawServer accepts TCP connections on 127.0.0.1, reads each upgrade
// request itself and hands the connection to a handler that answers by
// hand. It is how tests put crafted handshakes and frames in front of
// `wscope connect`.
type RawServer struct {
	ln       net.Listener
	handler  func(*RawConn)
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int
	notes    []string
	closed   bool
}

// NewRawServer starts a RawServer. handler runs in its own goroutine for
// each connection whose request head was read (within DefaultTimeout);
// the connection is closed when it returns, and at cleanup at the latest.
// handler must not call t.Fatal; it can use t.Error or report through a
// buffered channel (an unbuffered send the test never receives would keep
// the handler alive past cleanup, which is reported as an error).
func NewRawServer(t testing.TB, handler func(rc *RawConn)) *RawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testpeer: listen: %v", err)
	}
	s := &RawServer{ln: ln, handler: handler, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(func() {
		s.mu.Lock()
		s.closed = true
		_ = ln.Close()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		if !waitGroup(&s.wg, DefaultTimeout) {
			t.Errorf("testpeer: RawServer handlers still running %v after cleanup began", DefaultTimeout)
		}
		s.mu.Lock()
		for _, n := range s.notes {
			t.Logf("testpeer: RawServer: %s", n)
		}
		s.mu.Unlock()
	})
	return s
}

// URL returns ws://127.0.0.1:port/.
func (s *RawServer) URL() string { return "ws://" + s.ln.Addr().String() + "/" }

// Addr returns 127.0.0.1:port.
func (s *RawServer) Addr() string { return s.ln.Addr().String() }

// Accepted returns how many TCP connections were accepted, to check that
// a client did (not) reconnect.
func (s *RawServer) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

func (s *RawServer) note(format string, a ...any) {
	s.mu.Lock()
	s.notes = append(s.notes, fmt.Sprintf(format, a...))
	s.mu.Unlock()
}

func (s *RawServer) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.accepted++
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *RawServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		_ = c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	br := bufio.NewReaderSize(c, 4096)
	_ = c.SetReadDeadline(time.Now().Add(DefaultTimeout))
	h, err := readHead(br)
	if err != nil {
		s.note("connection from %s: %v", c.RemoteAddr(), err)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	s.handler(&RawConn{conn: c, br: br, server: true, req: parseRequest(h)})
}

// RawDialOptions shapes the upgrade request DialRaw writes.
type RawDialOptions struct {
	// Headers are written after the standard ones (Host, Upgrade,
	// Connection, Sec-WebSocket-Key, Sec-WebSocket-Version): a
	// Sec-WebSocket-Protocol, an Origin, a duplicate.
	Headers []HeaderField
	// Key is the Sec-WebSocket-Key; default "dGhlIHNhbXBsZSBub25jZQ==",
	// the key of RFC 6455 section 1.3.
	Key string
	// Request, when set, is written verbatim instead of the generated
	// request (its own key is then what the server will answer to).
	Request []byte
	// FirstFrames are written in the same write as the request, before the
	// response is read: a client that does not wait for the 101.
	FirstFrames []byte
	// Timeout bounds the connect and the reading of the response head;
	// default DefaultTimeout.
	Timeout time.Duration
}

// SampleKey is the Sec-WebSocket-Key of RFC 6455 section 1.3; its accept
// value is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
const SampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// DialRaw connects to a ws:// URL, writes the upgrade request by hand and
// reads the response head, whatever its status: the test judges it through
// Response. Frames the server sent right behind the head stay buffered for
// ReadFrame. It fails the test when the connection or the response head
// fails; see TryDialRaw to check those.
func DialRaw(t testing.TB, rawURL string, opts RawDialOptions) *RawConn {
	t.Helper()
	rc, err := TryDialRaw(t, rawURL, opts)
	if err != nil {
		t.Fatalf("testpeer: DialRaw %s: %v", rawURL, err)
	}
	return rc
}

// DialRawEarly is DialRaw with firstFrames written in the same write as the
// request: the client that sends its first frame right behind the upgrade
// request, which a server must keep rather than drop with the HTTP buffer.
func DialRawEarly(t testing.TB, rawURL string, firstFrames []byte) *RawConn {
	t.Helper()
	return DialRaw(t, rawURL, RawDialOptions{FirstFrames: firstFrames})
}

// TryDialRaw is DialRaw returning the error (connect refused, connection
// closed before a response head) instead of failing the test.
func TryDialRaw(t testing.TB, rawURL string, opts RawDialOptions) (*RawConn, error) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "ws" && u.Scheme != "http" {
		return nil, fmt.Errorf("testpeer: DialRaw supports ws:// only, not %q", u.Scheme)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })

	req := opts.Request
	if req == nil {
		key := opts.Key
		if key == "" {
			key = SampleKey
		}
		h := append([]HeaderField{
			{"Host", u.Host},
			{"Upgrade", "websocket"},
			{"Connection", "Upgrade"},
			{"Sec-WebSocket-Key", key},
			{"Sec-WebSocket-Version", "13"},
		}, opts.Headers...)
		req = writeHead("GET "+u.RequestURI()+" HTTP/1.1", h)
	}
	rc := &RawConn{conn: c, br: bufio.NewReaderSize(c, 4096)}
	if h, err := readHead(bufio.NewReader(bytes.NewReader(req))); err == nil {
		rc.req = parseRequest(h)
	}
	if err := rc.WriteRaw(append(append([]byte(nil), req...), opts.FirstFrames...)); err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	h, err := readHead(rc.br)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Time{})
	rc.resp = parseResponse(h)
	return rc, nil
}

func waitGroup(wg *sync.WaitGroup, timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

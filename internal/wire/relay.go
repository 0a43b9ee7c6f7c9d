package wire

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wscope/wscope/inspect"
)

// RelayOptions says where a relay takes its clients and what it changes
// in their handshake on the way.
type RelayOptions struct {
	// Upstream is the server. A client's request path is appended to its
	// path; the client's query replaces the upstream's when it has one.
	Upstream *url.URL
	// Dial is how the upstream is reached: TLS, NetDial, Timeout. Its
	// Headers are set on every upgrade request, replacing the client's
	// headers of the same name.
	Dial DialOptions
	// RewriteHost sends the upstream's host as Host instead of the
	// client's; RewriteOrigin sends the upstream's origin as Origin.
	RewriteHost, RewriteOrigin bool
	// Timeout bounds reading the client's request.
	Timeout time.Duration
}

// Headers a relay does not pass on: the handshake's own, which each leg
// negotiates, and HTTP's hop-by-hop ones (RFC 9110 section 7.6.1).
var relayOwnHeaders = []string{
	"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
	"Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
	"Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate",
	"TE", "Trailer", "Transfer-Encoding", "Content-Length",
}

func relayOwn(name string) bool {
	for _, h := range relayOwnHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// UpstreamError is a relayed upgrade that the upstream did not accept, or
// could not be reached for; the client got its answer (the upstream's own
// refusal, or 502).
type UpstreamError struct {
	URL string
	Err error
}

func (e *UpstreamError) Error() string { return "upstream " + e.URL + ": " + e.Err.Error() }
func (e *UpstreamError) Unwrap() error { return e.Err }

// Relay is one client relayed to the upstream: every frame both ways is
// reported as an event and forwarded byte for byte (header, mask key,
// length encoding, payload) as soon as it has arrived. A relay never answers
// for either peer: pings, closes and violations are theirs to handle.
type Relay struct {
	cfg    Config
	start  time.Time
	track  *inspect.Tracker
	events eventSink
	legs   [2]*relayLeg // client to server, server to client

	done     chan struct{}
	end      inspect.End
	aborting atomic.Bool
	oneDone  atomic.Bool  // one leg has ended
	closing  atomic.Bool  // a close frame went through, or the relay's own: no idle close now
	lastRead atomic.Int64 // unix nanoseconds of the last read from either peer

	stallOnce sync.Once
	stalled   atomic.Bool // a write ran out of WriteTimeout: stallErr is set
	stallErr  error
}

// relayLeg is one direction: what it reads from one peer and writes to
// the other.
type relayLeg struct {
	dir   inspect.Direction
	src   net.Conn
	dec   *inspect.Decoder
	frame inspect.Frame
	event inspect.Event

	dst    net.Conn
	wmu    sync.Mutex // the leg's forwarding and the relay's own closes
	bw     *bufio.Writer
	mask   bool // frames the relay itself sends this way are masked
	closed bool // the relay sent its own close this way: nothing follows it

	tcp string // how src ended
	err error
}

// AcceptRelay reads a client's upgrade request from nc, makes the same
// request of the upstream and gives the client the upstream's answer: a
// relay when it was 101, else the upstream's refusal (or 502 when it could
// not be reached), and an *UpstreamError. The open event shows the
// handshake as the upstream saw it, with the client as Local.
func AcceptRelay(ctx context.Context, nc net.Conn, opts RelayOptions, cfg Config) (*Relay, *inspect.Open, error) {
	// Timeout bounds the client's request, and then the answer: the dial
	// upstream in between has its own (Dial.Timeout).
	if opts.Timeout > 0 {
		nc.SetReadDeadline(time.Now().Add(opts.Timeout))
	}
	tc := &teeConn{Conn: nc}
	cbr := bufio.NewReaderSize(tc, bufSize)
	head, err := readHead(cbr)
	if err != nil {
		if len(head) > 0 {
			Refuse(nc, 400, "Bad Request", err.Error())
		}
		return nil, nil, err
	}
	nc.SetReadDeadline(time.Time{})
	// Nothing goes upstream that the upstream could read otherwise than
	// the relay did.
	if err := checkRequestHead(head); err != nil {
		return nil, nil, refuseMalformed(nc, "wscope proxy: ", err)
	}
	req := parseRequest(head)
	key, err := checkUpgradeRequest(req)
	if errors.Is(err, errNotUpgrade) {
		return nil, nil, refuseNotWebSocket(nc, "This is wscope proxy, relaying WebSocket connections to "+opts.Upstream.String()+": connect with a WebSocket client.\n")
	}
	if err != nil {
		return nil, nil, refuseMalformed(nc, "wscope proxy: ", err)
	}
	dopts := opts.Dial
	if dopts.URL, err = relayTarget(opts.Upstream, req.Target); err != nil {
		return nil, nil, refuseMalformed(nc, "wscope proxy: ", err)
	}
	dopts.Headers, dopts.Subprotocols, dopts.PassExtensions = relayHeaders(req.Headers, opts)
	dopts.Compress = nil
	up, err := handshake(ctx, dopts)
	if opts.Timeout > 0 {
		nc.SetWriteDeadline(time.Now().Add(opts.Timeout))
	}
	if err != nil {
		answerRefusal(nc, err)
		return nil, nil, &UpstreamError{URL: dopts.URL.String(), Err: err}
	}
	if err := answerUpgrade(nc, key, up.open.Response.Headers); err != nil {
		up.nc.Close()
		nc.Close()
		return nil, nil, fmt.Errorf("answering the client: %w", err)
	}
	nc.SetWriteDeadline(time.Time{})

	open := up.open
	open.Role = inspect.RoleProxy
	open.Local = nc.RemoteAddr().String()
	r := newRelay(tc, cbr, up.nc, up.br, cfg)
	if agreed, err := relayedDeflate(open.Response.Headers); err == nil && agreed != nil {
		r.track.SetDeflate(inspect.ClientToServer, !agreed.ClientNoContextTakeover)
		r.track.SetDeflate(inspect.ServerToClient, !agreed.ServerNoContextTakeover)
	}
	return r, open, nil
}

var errNotUpgrade = errors.New("no \"Upgrade: websocket\" header: not a WebSocket upgrade")

// checkUpgradeRequest checks what section 4.2.1 of RFC 6455 asks of a
// request, and returns its key.
func checkUpgradeRequest(req inspect.Request) (string, error) {
	if req.Method != "GET" {
		return "", fmt.Errorf("method %s is not GET: not a WebSocket upgrade", req.Method)
	}
	up, _ := headerValue(req.Headers, "Upgrade")
	if !strings.EqualFold(strings.TrimSpace(up), "websocket") {
		return "", errNotUpgrade
	}
	key, ok := headerValue(req.Headers, "Sec-WebSocket-Key")
	if !ok || key == "" {
		return "", errors.New("no Sec-WebSocket-Key header")
	}
	return key, nil
}

// relayTarget is the upstream URL for a client's request target: its path
// appended to the upstream's (escapes kept as the client wrote them), its
// query instead of the upstream's when it has one.
//
// A path with a dot segment is refused rather than normalised (RFC 3986
// section 5.2.4): appended to the upstream's path, "/api/../../secret"
// would leave it, and normalised it would no longer be what the client
// sent, which a relay that changes nothing must not do silently. Browsers
// and HTTP libraries remove dot segments before they send, so only a
// crafted request has one.
func relayTarget(up *url.URL, target string) (*url.URL, error) {
	u := *up
	t, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, fmt.Errorf("request target %s is not a path: %v", quoteStart([]byte(target)), errors.Unwrap(err))
	}
	if t.Path != "" && !strings.HasPrefix(t.Path, "/") {
		// "*", the asterisk form of OPTIONS (RFC 9112 section 3.2.4).
		return nil, fmt.Errorf("request target %s is not a path", quoteStart([]byte(target)))
	}
	if seg, ok := dotSegment(t.Path); ok {
		return nil, fmt.Errorf("request path %s has the dot segment %q: refused, so that it cannot leave the upstream's path", quoteStart([]byte(t.EscapedPath())), seg)
	}
	if t.Path != "/" && t.Path != "" {
		u.Path = strings.TrimSuffix(up.Path, "/") + t.Path
		u.RawPath = strings.TrimSuffix(up.EscapedPath(), "/") + t.EscapedPath()
	}
	if t.RawQuery != "" {
		u.RawQuery = t.RawQuery
	}
	return &u, nil
}

// dotSegment finds a "." or ".." segment (RFC 3986 section 3.3) in a
// decoded path, so %2e counts as a dot and %2f as a slash; a backslash
// counts as a slash too, and ";params" are ignored, as some servers read
// them.
func dotSegment(path string) (string, bool) {
	for seg := range strings.FieldsFuncSeq(path, func(r rune) bool { return r == '/' || r == '\\' }) {
		seg, _, _ = strings.Cut(seg, ";")
		if seg == "." || seg == ".." {
			return seg, true
		}
	}
	return "", false
}

// relayHeaders returns what the upstream is asked: the client's headers
// but the handshake's own, then the relay's; and the client's subprotocols
// and extension offer, passed on as they are.
func relayHeaders(hs []inspect.HeaderField, opts RelayOptions) (out []inspect.HeaderField, protocols []string, exts string) {
	var offers []string
	for _, h := range hs {
		switch {
		case strings.EqualFold(h.Name, "Sec-WebSocket-Protocol"):
			for p := range strings.SplitSeq(h.Value, ",") {
				if p = strings.TrimSpace(p); p != "" {
					protocols = append(protocols, p)
				}
			}
			continue
		case strings.EqualFold(h.Name, "Sec-WebSocket-Extensions"):
			offers = append(offers, h.Value)
			continue
		case strings.EqualFold(h.Name, "Host"):
			if !opts.RewriteHost {
				out = append(out, h)
			}
			continue
		case strings.EqualFold(h.Name, "Origin") && opts.RewriteOrigin:
			continue
		case relayOwn(h.Name):
			continue
		}
		out = append(out, h)
	}
	if opts.RewriteOrigin {
		scheme := "http"
		if opts.Upstream.Scheme == "wss" {
			scheme = "https"
		}
		out = append(out, inspect.HeaderField{Name: "Origin", Value: scheme + "://" + opts.Upstream.Host})
	}
	for _, set := range opts.Dial.Headers {
		out = removeHeader(out, set.Name)
	}
	out = append(out, opts.Dial.Headers...)
	return out, protocols, strings.Join(offers, ", ")
}

func removeHeader(hs []inspect.HeaderField, name string) []inspect.HeaderField {
	out := hs[:0]
	for _, h := range hs {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	return out
}

// answerRefusal tells the client why the upstream did not upgrade: the
// upstream's own status, headers and body when it answered, else 502.
func answerRefusal(nc net.Conn, err error) {
	defer nc.Close()
	var he *HandshakeError
	if !errors.As(err, &he) || he.Problem != "" || he.Status == 0 {
		body := "wscope proxy: " + err.Error() + "\n"
		fmt.Fprintf(nc, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", he.Status, he.Reason)
	for _, h := range he.Headers {
		if !relayOwn(h.Name) {
			fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(he.Body))
	b.Write(he.Body)
	nc.Write(b.Bytes())
}

// answerUpgrade sends the client the upstream's 101 with the client's own
// accept key: the subprotocol and extensions as the upstream chose them,
// its other headers in order.
func answerUpgrade(nc net.Conn, key string, upstream []inspect.HeaderField) error {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.WriteString(acceptKey(key))
	b.WriteString("\r\n")
	for _, h := range upstream {
		switch {
		case strings.EqualFold(h.Name, "Sec-WebSocket-Protocol"), strings.EqualFold(h.Name, "Sec-WebSocket-Extensions"):
		case relayOwn(h.Name):
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	b.WriteString("\r\n")
	_, err := nc.Write(b.Bytes())
	return err
}

// relayedDeflate reads the permessage-deflate the upstream agreed to, to
// show the messages inflated; the peers judge its validity, not the relay.
func relayedDeflate(resp []inspect.HeaderField) (*Compression, error) {
	xs, err := parseExtHeaders(resp)
	if err != nil {
		return nil, err
	}
	for _, x := range xs {
		if x.name == "permessage-deflate" {
			return parseParams(x.params)
		}
	}
	return nil, nil
}

// newRelay relays client (read through cbr) to server (read through sbr,
// or directly when nil).
func newRelay(client *teeConn, cbr *bufio.Reader, server *teeConn, sbr *bufio.Reader, cfg Config) *Relay {
	cfg = cfg.withDefaults()
	if sbr == nil {
		sbr = bufio.NewReaderSize(server, bufSize)
	}
	// The relay judges both peers and answers for neither.
	r := &Relay{cfg: cfg, start: cfg.Start, track: inspect.NewTracker(cfg.trackerOptions(0)), done: make(chan struct{})}
	r.events.onEvent = cfg.OnEvent
	r.lastRead.Store(time.Now().UnixNano())
	for _, tc := range []*teeConn{client, server} {
		if cfg.IdleTimeout > 0 {
			tc.onRead = r.readProgress
		}
		tc.writeTimeout = cfg.WriteTimeout
	}
	client.onStall = func() { r.stall("client") }
	server.onStall = func() { r.stall("server") }
	r.legs[0] = newLeg(inspect.ClientToServer, client, cbr, server, cfg, true)
	r.legs[1] = newLeg(inspect.ServerToClient, server, sbr, client, cfg, false)
	return r
}

func newLeg(dir inspect.Direction, src net.Conn, br *bufio.Reader, dst net.Conn, cfg Config, mask bool) *relayLeg {
	l := &relayLeg{dir: dir, src: src, dec: inspect.NewDecoder(br, dir), dst: dst, bw: bufio.NewWriterSize(dst, bufSize), mask: mask}
	if cfg.MaxMessageSize > 0 {
		l.dec.MaxFrameSize = uint64(cfg.MaxMessageSize)
	}
	l.event.Conn = cfg.ID
	return l
}

// ID returns the connection id.
func (r *Relay) ID() int { return r.cfg.ID }

// Done is closed when Run has returned.
func (r *Relay) Done() <-chan struct{} { return r.done }

// End returns how the relay ended; valid after Done is closed.
func (r *Relay) End() inspect.End { return r.end }

// Run forwards frames both ways until either peer goes, then drops the
// other (as the peer it stands for would have), emits the end event and
// returns how the connection ended.
func (r *Relay) Run() inspect.End {
	defer close(r.done)
	first := make(chan *relayLeg, 2)
	for _, l := range r.legs {
		go func() {
			l.tcp, l.err = r.forward(l)
			first <- l
		}()
	}
	idle := watchIdle(r.cfg.IdleTimeout, r.lastReadTime, r.closeIdle)
	l := <-first
	idle.stop()
	r.oneDone.Store(true)
	other := r.legs[0]
	if other == l {
		other = r.legs[1]
	}
	pending := 1
	if r.track.OwesClose(other.dir) {
		// Its answer is on its way: the close handshake is its too.
		t := time.NewTimer(r.cfg.CloseTimeout)
		select {
		case <-first:
			pending = 0
		case <-t.C:
		}
		t.Stop()
	}
	for _, leg := range r.legs {
		leg.src.Close()
	}
	if pending > 0 {
		<-first
	}
	r.end = r.track.End(l.tcp, l.err)
	r.emit(&inspect.Event{T: time.Since(r.start), Kind: inspect.KindEnd, Conn: r.cfg.ID, End: &r.end})
	return r.end
}

// forward is one leg's loop: read a frame, report it, send it on.
func (r *Relay) forward(l *relayLeg) (string, error) {
	f := &l.frame
	l.event.T = time.Since(r.start) // for frames that came with the handshake
	for {
		fresh := l.dec.Buffered() == 0
		if fresh && r.cfg.OnIdle != nil {
			r.cfg.OnIdle()
		}
		err := l.dec.Next(f)
		if fresh {
			l.event.T = time.Since(r.start)
		}
		if err != nil {
			return r.readFailed(l, err)
		}
		// Reported before it is passed on: the answer it causes comes back
		// through the other leg, and must not be shown first.
		st := r.track.Frame(f)
		if f.Op == inspect.OpClose {
			r.sawClose(st.Closed)
		}
		r.report(l, inspect.KindFrame, f, nil)
		if st.Err != nil {
			// Forwarded all the same: the peers judge it, only the view
			// is lost.
			r.emit(&inspect.Event{T: l.event.T, Kind: inspect.KindNote, Conn: r.cfg.ID, Text: fmt.Sprintf("%s message not shown: %v", l.dir, st.Err)})
		}
		if st.Msg != nil {
			r.report(l, inspect.KindMsg, nil, st.Msg)
		}
		if err := l.send(f, l.dec.Buffered() == 0); err != nil {
			if r.stalled.Load() {
				return "local", r.stallErr
			}
			return "", fmt.Errorf("forwarding to the %s: %w", peerName(l.dir.Reverse()), err)
		}
		if f.Op == inspect.OpClose && r.oneDone.Load() {
			return "local", nil // the other side is gone: this one has answered
		}
	}
}

// send writes f as it arrived: its raw header, then its payload masked
// again with its own key (the decoder unmasked it in place, for the view).
// A large masked payload is masked in pieces, never copied whole.
func (l *relayLeg) send(f *inspect.Frame, flush bool) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed {
		// The peer got the relay's close frame; a second one, or data
		// after it, would break the protocol for it.
		return nil
	}
	l.bw.Write(f.Raw)
	if err := writePayload(l.bw, f.Payload, f.Header); err != nil {
		return err
	}
	if flush {
		return l.bw.Flush()
	}
	return nil
}

func (r *Relay) report(l *relayLeg, kind inspect.Kind, f *inspect.Frame, m *inspect.Message) {
	l.event.Kind, l.event.Frame, l.event.Msg = kind, f, m
	r.emit(&l.event)
}

// emit reports e; the two legs' events interleave, their times never
// going back.
func (r *Relay) emit(e *inspect.Event) { r.events.emit(e) }

// sawClose bounds what is left of the connection once a close frame went
// through: the peers get CloseTimeout to finish once both sides closed,
// twice that while one is unanswered.
func (r *Relay) sawClose(done bool) {
	r.closing.Store(true)
	wait := 2 * r.cfg.CloseTimeout
	if done {
		wait = r.cfg.CloseTimeout
	}
	by := time.Now().Add(wait)
	for _, l := range r.legs {
		l.src.SetReadDeadline(by)
	}
}

func (r *Relay) readFailed(l *relayLeg, err error) (string, error) {
	var tl *inspect.TooLargeError
	if errors.As(err, &tl) {
		// Its payload was never read, so nothing can be forwarded after
		// it: report the header, and close both sides as too big.
		st := r.track.Oversized(&l.frame, tl)
		r.report(l, inspect.KindFrame, &l.frame, nil)
		r.Close(st.Fail, "frame too large for the relay")
		return "local", nil
	}
	if r.stalled.Load() {
		return "local", r.stallErr
	}
	if r.aborting.Load() {
		return "local", nil
	}
	tcp, err := classify(err)
	if err != nil && tcp == "fin" {
		err = fmt.Errorf("%s %w", peerName(l.dir), err)
	}
	return tcp, err
}

// Close ends the relay from the middle: a close frame with code to each
// peer, as each expects it (masked towards the server), then the peers
// finish the handshake with each other's silence bounded by CloseTimeout.
func (r *Relay) Close(code inspect.CloseCode, reason string) {
	r.closing.Store(true)
	r.track.MarkCloser("proxy")
	body := inspect.AppendClose(nil, code, reason)
	for _, l := range r.legs {
		h := inspect.Header{Fin: true, Op: inspect.OpClose, Length: uint64(len(body)), Masked: l.mask}
		if l.mask {
			crand.Read(h.Mask[:])
		}
		// The deadline first: it frees a forwarder stuck writing to a peer
		// that stopped reading, which holds the lock.
		l.dst.SetWriteDeadline(time.Now().Add(r.cfg.CloseTimeout))
		l.wmu.Lock()
		if l.closed {
			l.wmu.Unlock()
			continue
		}
		raw := inspect.AppendHeader(nil, h)
		l.bw.Write(raw)
		writePayload(l.bw, body, h)
		l.bw.Flush()
		l.closed = true
		l.wmu.Unlock()
		f := &inspect.Frame{Dir: l.dir, Header: h, Raw: raw, Payload: body}
		f.LenEnc = inspect.MinimalLengthEncoding(h.Length)
		r.track.Injected(f)
		r.emit(&inspect.Event{T: time.Since(r.start), Kind: inspect.KindFrame, Conn: r.cfg.ID, Frame: f})
	}
	by := time.Now().Add(r.cfg.CloseTimeout)
	for _, l := range r.legs {
		l.src.SetReadDeadline(by)
	}
}

// readProgress is called after every read from either peer that returned
// bytes, when there is an idle timeout.
func (r *Relay) readProgress() { r.lastRead.Store(time.Now().UnixNano()) }

func (r *Relay) lastReadTime() time.Time { return time.Unix(0, r.lastRead.Load()) }

// closeIdle closes both sides once neither peer has sent anything for
// IdleTimeout, unless their close handshake has begun.
func (r *Relay) closeIdle() {
	if !r.closing.Load() {
		r.Close(closeIdle, idleReason(r.cfg.IdleTimeout))
	}
}

// stall drops both sides when peer has taken nothing of what it was sent
// for WriteTimeout: the relay holds what it could not forward, and the
// other peer would wait for it forever.
func (r *Relay) stall(peer string) {
	r.stallOnce.Do(func() {
		r.stallErr = fmt.Errorf("dropped: the %s took nothing of what was sent for %s", peer, r.cfg.WriteTimeout)
		r.stalled.Store(true)
		for _, l := range r.legs {
			l.src.Close()
		}
	})
}

// Abort drops both connections without a close handshake.
func (r *Relay) Abort() {
	r.aborting.Store(true)
	for _, l := range r.legs {
		l.src.Close()
	}
}

// Wait blocks until Run has returned or d passes.
func (r *Relay) Wait(d time.Duration) bool { return waitDone(r.done, d) }

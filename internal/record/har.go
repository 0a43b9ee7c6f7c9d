package record

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wscope/wscope/inspect"
)

// Source is what the commands read events from: a recording (Reader) or an
// import (HARReader). Events returned by Next are valid until the next call.
type Source interface {
	Header() inspect.RecordingHeader
	Next() (*inspect.Event, error)
	Warnings() []string
}

var (
	_ Source = (*Reader)(nil)
	_ Source = (*HARReader)(nil)
)

// ErrNoWebSockets is returned for a HAR file without a WebSocket entry.
var ErrNoWebSockets = errors.New("no WebSocket entries in HAR")

// HARReader turns the WebSocket entries of a HAR file (as Chrome, Firefox
// and tools following Chrome's "_webSocketMessages" extension export it)
// into events: per connection an open event, then one msg event per text
// or binary message and a frame event per control frame, all connections
// merged in time order with connection ids 1..n in the order they opened.
// T is measured from the earliest time in the file.
//
// The HAR is read as a stream, one entry at a time; entries that are not
// WebSockets are dropped as soon as they are read, bodies and all. The
// messages of WebSocket entries are kept (compactly, as the HAR held them)
// until the end of the file, because HAR entries are not in message order.
type HARReader struct {
	hdr      inspect.RecordingHeader
	warnings []string
	conns    []*harConn
	order    []harRef
	next     int

	ev    inspect.Event
	msg   inspect.Message
	frame inspect.Frame
	close inspect.Close
	raw   [inspect.MaxHeaderSize]byte
	base  time.Time
}

type harConn struct {
	id    int
	open  *inspect.Open
	first time.Time // the earlier of the handshake and the first message
	msgs  []harMsg
}

type harMsg struct {
	at   time.Time
	kind inspect.Kind // KindMsg, KindFrame or KindError
	dir  inspect.Direction
	op   inspect.OpCode
	seq  uint64
	data string // an error's text
	// payload is the message's: its text, or its base64 decoded.
	payload []byte
}

// harRef points at one event to emit: msg -1 is the open event.
type harRef struct {
	at   time.Time
	conn int
	msg  int
}

// ReadHAR reads the WebSocket connections of a HAR file and calls emit
// for every event, in time order. The event passed to emit is valid only
// during the call.
func ReadHAR(r io.Reader, emit func(*inspect.Event) error) error {
	hr, err := NewHARReader(r)
	if err != nil {
		return err
	}
	for {
		e, err := hr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := emit(e); err != nil {
			return err
		}
	}
}

// HARHeader is the recording header for events imported from a HAR file:
// source "har", lossy (HAR keeps messages, not frames).
func HARHeader(created time.Time) inspect.RecordingHeader {
	return inspect.RecordingHeader{Created: created, Tool: "wscope", Source: "har", Lossy: true}
}

// NewHARReader reads a whole HAR file and prepares its events. It returns
// ErrNoWebSockets when the file has no WebSocket entry.
func NewHARReader(r io.Reader) (*HARReader, error) {
	hr := &HARReader{}
	creator, err := hr.parse(json.NewDecoder(r))
	if err != nil {
		return nil, err
	}
	if len(hr.conns) == 0 {
		return nil, ErrNoWebSockets
	}
	hr.arrange(creator)
	return hr, nil
}

// Header returns the recording header describing the import: Created is
// the time of the earliest event (T = 0).
func (hr *HARReader) Header() inspect.RecordingHeader { return hr.hdr }

// Warnings returns what the import could not carry over.
func (hr *HARReader) Warnings() []string { return hr.warnings }

func (hr *HARReader) warn(format string, args ...any) {
	if len(hr.warnings) < 100 {
		hr.warnings = append(hr.warnings, fmt.Sprintf(format, args...))
	}
}

// The parts of a HAR entry the import needs; everything else in an entry
// (response bodies above all) is skipped by the decoder.
type harEntry struct {
	StartedDateTime string          `json:"startedDateTime"`
	ResourceType    string          `json:"_resourceType"`
	Request         harRequest      `json:"request"`
	Response        harResponse     `json:"response"`
	ServerIPAddress string          `json:"serverIPAddress"`
	Time            float64         `json:"time"` // ms the entry lasted
	Messages        json.RawMessage `json:"_webSocketMessages"`
}

type harRequest struct {
	Method      string    `json:"method"`
	URL         string    `json:"url"`
	HTTPVersion string    `json:"httpVersion"`
	Headers     []harPair `json:"headers"`
}

type harResponse struct {
	Status      json.RawMessage `json:"status"`
	StatusText  string          `json:"statusText"`
	HTTPVersion string          `json:"httpVersion"`
	Headers     []harPair       `json:"headers"`
}

type harPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// harMessage is one element of _webSocketMessages. Chrome writes
// {type: send|receive|error, time: epoch seconds, opcode: 1|2|..., data};
// the other fields are read defensively because other producers vary.
type harMessage struct {
	Type   string          `json:"type"`
	Time   json.RawMessage `json:"time"`
	Opcode json.RawMessage `json:"opcode"`
	Data   *string         `json:"data"`
}

// parse walks {"log": {"creator": ..., "entries": [...]}} as a stream.
func (hr *HARReader) parse(dec *json.Decoder) (creator string, err error) {
	if err := expectDelim(dec, '{'); err != nil {
		return "", fmt.Errorf("not a HAR file: %w", err)
	}
	sawLog := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", harSyntax(dec, err)
		}
		if key != "log" {
			if err := skipJSON(dec); err != nil {
				return "", err
			}
			continue
		}
		sawLog = true
		if err := expectDelim(dec, '{'); err != nil {
			return "", fmt.Errorf(`HAR: "log": %w`, err)
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return "", harSyntax(dec, err)
			}
			switch key {
			case "creator":
				var c struct{ Name, Version string }
				if err := dec.Decode(&c); err != nil {
					return "", harSyntax(dec, err)
				}
				creator = strings.TrimSpace(c.Name + " " + c.Version)
			case "entries":
				if err := hr.entries(dec); err != nil {
					return "", err
				}
			default:
				if err := skipJSON(dec); err != nil {
					return "", err
				}
			}
		}
		if _, err := dec.Token(); err != nil { // '}' of log
			return "", harSyntax(dec, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", harSyntax(dec, err)
	}
	if !sawLog {
		return "", errors.New(`not a HAR file: no "log" object`)
	}
	return creator, nil
}

func (hr *HARReader) entries(dec *json.Decoder) error {
	if err := expectDelim(dec, '['); err != nil {
		return fmt.Errorf(`HAR: "entries": %w`, err)
	}
	for i := 1; dec.More(); i++ {
		var e harEntry
		if err := dec.Decode(&e); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				hr.warn("HAR entry %d skipped: %v", i, err)
				continue
			}
			return harSyntax(dec, fmt.Errorf("entry %d: %w", i, err))
		}
		if isWebSocketEntry(&e) {
			hr.addEntry(i, &e)
		}
	}
	_, err := dec.Token()
	return harSyntax(dec, err)
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return harSyntax(dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, found %v", want, tok)
	}
	return nil
}

func skipJSON(dec *json.Decoder) error {
	var raw json.RawMessage
	return harSyntax(dec, dec.Decode(&raw))
}

func harSyntax(dec *json.Decoder, err error) error {
	if err == nil {
		return nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("HAR: invalid JSON near byte %d: %w", dec.InputOffset(), err)
}

// isWebSocketEntry recognises a WebSocket handshake: Chrome marks it with
// _resourceType "websocket" and a ws:// or wss:// URL; Firefox has neither
// mark in every version, but the 101 answer to an Upgrade: websocket
// request is unmistakable.
func isWebSocketEntry(e *harEntry) bool {
	if strings.EqualFold(e.ResourceType, "websocket") || e.Messages != nil {
		return true
	}
	u := strings.ToLower(e.Request.URL)
	if strings.HasPrefix(u, "ws://") || strings.HasPrefix(u, "wss://") {
		return true
	}
	return harStatus(e.Response.Status) == 101 && strings.EqualFold(headerValue(e.Request.Headers, "Upgrade"), "websocket")
}

func harStatus(raw json.RawMessage) int {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, _ = strconv.Atoi(s)
	}
	return n
}

func headerValue(hs []harPair, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func (hr *HARReader) addEntry(index int, e *harEntry) {
	o := &inspect.Open{Role: inspect.RoleClient}
	o.URL = e.Request.URL
	u, uerr := url.Parse(e.Request.URL)
	if uerr == nil {
		switch strings.ToLower(u.Scheme) {
		case "http":
			u.Scheme = "ws"
			o.URL = u.String()
		case "https":
			u.Scheme = "wss"
			o.URL = u.String()
		}
	}
	o.Request = inspect.Request{Method: e.Request.Method, Proto: e.Request.HTTPVersion, Headers: pairs(e.Request.Headers)}
	if o.Request.Method == "" {
		o.Request.Method = "GET"
	}
	if uerr == nil {
		o.Request.Target = u.RequestURI()
	}
	o.Response = inspect.Response{Proto: e.Response.HTTPVersion, Status: harStatus(e.Response.Status),
		Reason: e.Response.StatusText, Headers: pairs(e.Response.Headers)}
	o.Subprotocol = headerValue(e.Response.Headers, "Sec-WebSocket-Protocol")
	o.Extensions = inspect.ParseExtensions(headerValue(e.Response.Headers, "Sec-WebSocket-Extensions"))
	if uerr == nil {
		// Chrome leaves serverIPAddress empty on WebSocket entries: the
		// URL's host is then the best name for the remote end.
		host := strings.Trim(e.ServerIPAddress, "[]")
		if host == "" {
			host = u.Hostname()
		}
		port := u.Port()
		if port == "" {
			port = "80"
			if o.URL != "" && strings.HasPrefix(strings.ToLower(o.URL), "wss:") {
				port = "443"
			}
		}
		if host != "" {
			o.Remote = net.JoinHostPort(host, port)
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, e.StartedDateTime); err == nil {
		o.Start = t
	} else if e.StartedDateTime != "" {
		hr.warn("HAR entry %d: startedDateTime %q is not an ISO 8601 time", index, e.StartedDateTime)
	}
	c := &harConn{open: o, first: o.Start}
	hr.conns = append(hr.conns, c)

	if e.Messages == nil {
		return
	}
	// Each message is decoded on its own, so that one with a field of the
	// wrong type costs only itself.
	var msgs []json.RawMessage
	if err := json.Unmarshal(e.Messages, &msgs); err != nil {
		hr.warn("HAR entry %d (%s): _webSocketMessages is not a list of messages: ignored", index, o.URL)
		return
	}
	var seq uint64
	for i, raw := range msgs {
		var m harMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			hr.warn("HAR entry %d, message %d: %s: skipped", index, i+1, harFieldError(err))
			continue
		}
		hm, ok := hr.message(index, i+1, &m)
		if !ok {
			continue
		}
		seq++
		hm.seq = seq
		c.msgs = append(c.msgs, hm)
	}
	if hr.monotonic(c, e.Time) {
		hr.warn("HAR entry %d (%s): message times are a monotonic clock, not Unix time: placed from startedDateTime", index, o.URL)
	}
	for _, hm := range c.msgs {
		if c.first.IsZero() || hm.at.Before(c.first) {
			c.first = hm.at
		}
	}
}

// notEpoch is the earliest message time taken as Unix time: anything
// before 2001 next to a real startedDateTime is a monotonic clock.
var notEpoch = time.Unix(1e9, 0)

// monotonic moves message times that some producers (chrome-har-capturer)
// copy from the DevTools protocol's monotonic clock onto the wall clock:
// the entry lasted from the handshake (startedDateTime) to its last
// message, so the handshake's monotonic time is the last message's minus
// the entry's duration. It reports whether it moved them.
func (hr *HARReader) monotonic(c *harConn, entryMs float64) bool {
	n := len(c.msgs)
	if c.open.Start.IsZero() || n == 0 || !c.msgs[n-1].at.Before(notEpoch) || !c.open.Start.After(notEpoch) {
		return false
	}
	handshake := c.msgs[0].at
	if entryMs > 0 {
		handshake = c.msgs[n-1].at.Add(-time.Duration(entryMs * float64(time.Millisecond)))
	}
	shift := c.open.Start.Sub(handshake)
	for i := range c.msgs {
		c.msgs[i].at = c.msgs[i].at.Add(shift)
	}
	return true
}

func pairs(hs []harPair) []inspect.HeaderField {
	if len(hs) == 0 {
		return nil
	}
	out := make([]inspect.HeaderField, len(hs))
	for i, h := range hs {
		out[i] = inspect.HeaderField{Name: h.Name, Value: h.Value}
	}
	return out
}

// message reads one _webSocketMessages element.
func (hr *HARReader) message(entry, index int, m *harMessage) (harMsg, bool) {
	var hm harMsg
	switch strings.ToLower(m.Type) {
	case "send", "sent", "outgoing", "out", "c2s", "client":
		hm.dir = inspect.ClientToServer
	case "receive", "received", "incoming", "in", "s2c", "server":
		hm.dir = inspect.ServerToClient
	case "error":
		hm.kind = inspect.KindError
	default:
		hr.warn("HAR entry %d, message %d: unknown type %q: skipped", entry, index, m.Type)
		return hm, false
	}
	at, ok := harTime(m.Time)
	if !ok {
		hr.warn("HAR entry %d, message %d: time %s is not a time: skipped", entry, index, m.Time)
		return hm, false
	}
	hm.at = at
	if m.Data != nil {
		hm.data = *m.Data
	}
	if hm.kind == inspect.KindError {
		return hm, true
	}
	op, ok := harOpcode(m.Opcode)
	if !ok {
		hr.warn("HAR entry %d, message %d: opcode %s: skipped", entry, index, m.Opcode)
		return hm, false
	}
	hm.op = op
	hm.kind = inspect.KindFrame
	if op.IsData() {
		hm.kind = inspect.KindMsg
	}
	data := hm.data
	hm.data = ""
	if op == inspect.OpText { // Chrome: text for opcode 1, base64 otherwise
		hm.payload = []byte(data)
		return hm, true
	}
	p, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		// Some producers leave the padding out.
		if p, err = base64.RawStdEncoding.DecodeString(data); err != nil {
			hr.warn("HAR entry %d, message %d: %s data is not base64: skipped", entry, index, op)
			return hm, false
		}
	}
	hm.payload = p
	return hm, true
}

// harFieldError says which field of a message had the wrong type.
func harFieldError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%q is a JSON %s, not a %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// harTime reads a message time: epoch seconds, or milliseconds when the
// value is above 1e11 (some producers write Date.now()).
func harTime(raw json.RawMessage) (time.Time, bool) {
	var num json.Number
	if err := json.Unmarshal(raw, &num); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}, false
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
		num = json.Number(s)
	}
	f, err := num.Float64()
	if err != nil || f < 0 || f != f {
		return time.Time{}, false
	}
	if f > 1e11 {
		if f > 1e15 { // past the year 33000, even in milliseconds
			return time.Time{}, false
		}
		return time.UnixMicro(int64(f*1000 + 0.5)), true
	}
	d, ok := parseSeconds([]byte(num))
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, 0).Add(d), true
}

func harOpcode(raw json.RawMessage) (inspect.OpCode, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return inspect.OpText, true // absent: the common case
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		if n < 0 || n > 15 {
			return 0, false
		}
		return inspect.OpCode(n), true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		op, err := inspect.ParseOpCode(s)
		return op, err == nil
	}
	return 0, false
}

// arrange numbers the connections in the order they opened, merges their
// messages in time order and fills the header.
func (hr *HARReader) arrange(creator string) {
	for _, c := range hr.conns {
		slices.SortStableFunc(c.msgs, func(a, b harMsg) int { return a.at.Compare(b.at) })
		if len(c.msgs) > 0 && (c.first.IsZero() || c.msgs[0].at.Before(c.first)) {
			c.first = c.msgs[0].at
		}
	}
	// A connection with no time at all (no startedDateTime, no messages)
	// opens with the earliest one.
	var base time.Time
	for _, c := range hr.conns {
		if !c.first.IsZero() && (base.IsZero() || c.first.Before(base)) {
			base = c.first
		}
	}
	for _, c := range hr.conns {
		if c.first.IsZero() {
			c.first = base
		}
	}
	slices.SortStableFunc(hr.conns, func(a, b *harConn) int { return a.first.Compare(b.first) })
	total, withMsgs := 0, 0
	for i, c := range hr.conns {
		c.id = i + 1
		total += len(c.msgs)
		if len(c.msgs) > 0 {
			withMsgs++
		}
	}
	hr.order = make([]harRef, 0, len(hr.conns)+total)
	for i, c := range hr.conns {
		hr.order = append(hr.order, harRef{at: c.first, conn: i, msg: -1})
		for j, m := range c.msgs {
			hr.order = append(hr.order, harRef{at: m.at, conn: i, msg: j})
		}
	}
	slices.SortStableFunc(hr.order, func(a, b harRef) int { return a.at.Compare(b.at) })
	hr.base = hr.conns[0].first
	hr.hdr = HARHeader(hr.base)
	if withMsgs == 0 {
		what := "the HAR"
		if strings.HasPrefix(strings.ToLower(creator), "firefox") {
			what = "Firefox's HAR export"
		}
		hr.warn("%d WebSocket connection(s) but no messages: %s does not include WebSocket messages (Chrome's does, as _webSocketMessages)", len(hr.conns), what)
	}
}

// Next returns the next event, or io.EOF after the last.
func (hr *HARReader) Next() (*inspect.Event, error) {
	if hr.next >= len(hr.order) {
		return nil, io.EOF
	}
	ref := hr.order[hr.next]
	hr.next++
	c := hr.conns[ref.conn]
	at := ref.at
	if at.Before(hr.base) {
		at = hr.base
	}
	hr.ev = inspect.Event{T: at.Sub(hr.base), Conn: c.id}
	if ref.msg < 0 {
		hr.ev.Kind = inspect.KindOpen
		hr.ev.Open = c.open
		return &hr.ev, nil
	}
	m := &c.msgs[ref.msg]
	if m.kind == inspect.KindError {
		hr.ev.Kind = inspect.KindError
		hr.ev.Text = m.data
		return &hr.ev, nil
	}
	p := m.payload
	if m.kind == inspect.KindMsg {
		hr.msg = inspect.Message{Dir: m.dir, Op: m.op, WireLen: len(p), Payload: p}
		hr.ev.Kind = inspect.KindMsg
		hr.ev.Msg = &hr.msg
		return &hr.ev, nil
	}
	f := &hr.frame
	*f = inspect.Frame{Seq: m.seq, Dir: m.dir, Payload: p}
	f.Header = inspect.Header{Fin: true, Op: m.op, Length: uint64(len(p)), LenEnc: inspect.MinimalLengthEncoding(uint64(len(p)))}
	f.Raw = inspect.AppendHeader(hr.raw[:0], f.Header)
	if m.op == inspect.OpClose {
		if cl, ok := inspect.ParseClose(p); ok {
			hr.close = cl
			f.Close = &hr.close
		}
	}
	hr.ev.Kind = inspect.KindFrame
	hr.ev.Frame = f
	return &hr.ev, nil
}

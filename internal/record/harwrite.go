package record

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"iter"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
)

// Events adapts a slice to the iterator WriteHAR takes.
func Events(evs []*inspect.Event) iter.Seq2[*inspect.Event, error] {
	return func(yield func(*inspect.Event, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// WriteHAR writes events as one HAR document (see HARWriter), keeping
// every value as it is (nothing redacted: the events were redacted when
// they were recorded, or not). It stops at the first error the iterator
// yields and returns it.
func WriteHAR(w io.Writer, h inspect.RecordingHeader, events iter.Seq2[*inspect.Event, error]) error {
	hw, err := NewHARWriter(w, h, WriterOptions{Secrets: true})
	if err != nil {
		return err
	}
	for e, err := range events {
		if err != nil {
			return err
		}
		if err := hw.Write(e); err != nil {
			return err
		}
	}
	return hw.Close()
}

// HARWriter writes events as a HAR 1.2 document with one entry per
// connection in the form Chrome exports WebSockets: the handshake as
// request and response, _resourceType "websocket", and _webSocketMessages
// with every message (type send for client to server, receive for server
// to client, time in epoch seconds, opcode 1 with the text, 2 with
// base64), every control frame (opcodes 8, 9, 10, base64) and every error
// event (type error, opcode -1). Message times are the connection's
// wall-clock start (Open.Start) plus the time since its open event;
// without an open event the recording's Created time stands in.
// startedDateTime is written to the microsecond (Chrome writes
// milliseconds), so that message times survive an export and import
// exactly.
//
// HAR nests messages inside their connection: a connection's entry is
// written when its end event arrives (what comes for it later is
// dropped), and those of connections still open at Close then. Over a
// regular file the document is complete after each entry, so a process
// killed with SIGKILL loses only the connections that were still open;
// over a pipe the document's last line comes with Close.
//
// A HARWriter is safe for concurrent use. After the first failed write
// every later one returns the same error.
type HARWriter struct {
	mu      sync.Mutex
	w       io.Writer
	file    *os.File // set by CreateHAR: Close closes it
	seek    io.Seeker
	redacts *inspect.Redaction // nil keeps secrets
	created time.Time
	byID    map[int]*harOut // connections not yet written
	seen    int             // connections so far: their order
	done    map[int]bool    // written: late events are dropped
	entries int             // written so far
	closed  bool            // harTrailer follows the last entry in the file
	err     error
}

const harTrailer = "\n    ]\n  }\n}\n"

// NewHARWriter writes the start of the document to w. Zero fields of h
// get the defaults NewWriter gives them. Unless opts.Secrets, open events
// are redacted as Writer redacts them.
func NewHARWriter(w io.Writer, h inspect.RecordingHeader, opts WriterOptions) (*HARWriter, error) {
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	if h.Tool == "" {
		h.Tool = "wscope"
	}
	hw := &HARWriter{w: w, created: h.Created, byID: map[int]*harOut{}, done: map[int]bool{}}
	if !opts.Secrets {
		hw.redacts = inspect.NewRedaction(opts.Redact)
	}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			hw.seek = f
		}
	}
	head, _ := json.MarshalIndent(struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}{h.Tool, h.Version}, "    ", "  ")
	var b []byte
	b = append(b, "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": "...)
	b = append(b, head...)
	b = append(b, ",\n    \"pages\": [],\n    \"entries\": ["...)
	if err := hw.write(b); err != nil {
		return nil, err
	}
	return hw, nil
}

// Flush reports the first write error: entries are written whole at
// their connection's end, so nothing waits in a HARWriter.
func (hw *HARWriter) Flush() error {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	return hw.err
}

// CreateHAR creates the file at path as Create does (a new file; with
// opts.Force one put in place of an existing one, never written through
// a link) and writes the start of the document to it. Close the HARWriter
// to finish and close the file.
func CreateHAR(path string, h inspect.RecordingHeader, opts WriterOptions) (*HARWriter, error) {
	f, err := createFile(path, opts.Force)
	if err != nil {
		return nil, err
	}
	hw, err := NewHARWriter(f, h, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	hw.file = f
	return hw, nil
}

// Write adds e to its connection's entry; an end event writes the entry.
func (hw *HARWriter) Write(e *inspect.Event) error {
	e = hw.redacts.Event(e) // nil keeps secrets
	hw.mu.Lock()
	defer hw.mu.Unlock()
	if hw.err != nil {
		return hw.err
	}
	if hw.done[e.Conn] {
		return nil
	}
	get := func() *harOut {
		c := hw.byID[e.Conn]
		if c == nil {
			hw.seen++
			c = &harOut{id: e.Conn, order: hw.seen, openT: e.T, endT: e.T}
			hw.byID[e.Conn] = c
		}
		if e.T > c.endT {
			c.endT = e.T
		}
		return c
	}
	switch e.Kind {
	case inspect.KindOpen:
		if e.Open != nil {
			c := get()
			c.open = e.Open.Clone()
			c.openT = e.T
		}
	case inspect.KindMsg:
		m := e.Msg
		if m == nil {
			return nil
		}
		hm := harOutMsg{t: e.T, Type: harType(m.Dir), Opcode: int(m.Op)}
		if m.Op == inspect.OpText {
			hm.Data = string(m.Payload)
		} else {
			hm.Data = base64.StdEncoding.EncodeToString(m.Payload)
		}
		c := get()
		c.msgs = append(c.msgs, hm)
	case inspect.KindFrame:
		f := e.Frame
		if f == nil || !f.Op.IsControl() {
			return nil // data frames are in their msg events
		}
		c := get()
		c.msgs = append(c.msgs, harOutMsg{t: e.T, Type: harType(f.Dir), Opcode: int(f.Op),
			Data: base64.StdEncoding.EncodeToString(f.Payload)})
	case inspect.KindError:
		c := get()
		c.msgs = append(c.msgs, harOutMsg{t: e.T, Type: "error", Opcode: -1, Data: e.Text})
	case inspect.KindEnd:
		c := hw.byID[e.Conn]
		if c == nil {
			return nil
		}
		get()
		delete(hw.byID, e.Conn)
		hw.done[e.Conn] = true
		return hw.writeEntry(c)
	}
	return nil
}

// writeEntry appends c's entry to the document; over a regular file the
// trailer follows it at once, and is written over by the next entry.
func (hw *HARWriter) writeEntry(c *harOut) error {
	b, err := json.MarshalIndent(c.entry(hw.created), "      ", "  ")
	if err != nil {
		hw.err = err
		return err
	}
	if hw.closed {
		if _, err := hw.seek.Seek(-int64(len(harTrailer)), io.SeekCurrent); err != nil {
			hw.err = err
			return err
		}
		hw.closed = false
	}
	out := make([]byte, 0, len(b)+len(harTrailer)+8)
	if hw.entries > 0 {
		out = append(out, ',')
	}
	out = append(append(out, "\n      "...), b...)
	hw.entries++
	if hw.seek != nil {
		out = append(out, harTrailer...)
		hw.closed = true
	}
	return hw.write(out)
}

func (hw *HARWriter) write(b []byte) error {
	n, err := hw.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		hw.err = err
	}
	return err
}

// Close writes the entries of the connections still open and ends the
// document; it closes the file when the HARWriter came from CreateHAR.
// Later writes fail.
func (hw *HARWriter) Close() error {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	err := hw.err
	if err == nil {
		open := slices.SortedFunc(maps.Values(hw.byID), func(a, b *harOut) int { return a.order - b.order })
		for _, c := range open {
			if err = hw.writeEntry(c); err != nil {
				break
			}
		}
		hw.byID = nil
	}
	if err == nil && !hw.closed {
		err = hw.write([]byte(harTrailer))
	}
	if hw.file != nil {
		if cerr := hw.file.Close(); err == nil {
			err = cerr
		}
		hw.file = nil
	}
	if hw.err == nil {
		hw.err = errClosed
	}
	return err
}

func harType(d inspect.Direction) string {
	if d == inspect.ClientToServer {
		return "send"
	}
	return "receive"
}

type harOut struct {
	id, order   int
	open        *inspect.Open
	openT, endT time.Duration // its open event, and its last event so far
	msgs        []harOutMsg
}

type harOutMsg struct {
	t      time.Duration
	Type   string      `json:"type"`
	Time   json.Number `json:"time"`
	Opcode int         `json:"opcode"`
	Data   string      `json:"data"`
}

type harOutEntry struct {
	StartedDateTime string         `json:"startedDateTime"`
	Time            float64        `json:"time"`
	Request         harOutRequest  `json:"request"`
	Response        harOutResponse `json:"response"`
	Cache           struct{}       `json:"cache"`
	Timings         map[string]int `json:"timings"`
	ServerIPAddress string         `json:"serverIPAddress,omitempty"`
	Connection      string         `json:"connection,omitempty"`
	ConnectionID    string         `json:"_connectionId"`
	ResourceType    string         `json:"_resourceType"`
	Messages        []harOutMsg    `json:"_webSocketMessages"`
}

type harOutRequest struct {
	Method      string    `json:"method"`
	URL         string    `json:"url"`
	HTTPVersion string    `json:"httpVersion"`
	Cookies     []harPair `json:"cookies"`
	Headers     []harPair `json:"headers"`
	QueryString []harPair `json:"queryString"`
	HeadersSize int       `json:"headersSize"`
	BodySize    int       `json:"bodySize"`
}

type harOutResponse struct {
	Status      int       `json:"status"`
	StatusText  string    `json:"statusText"`
	HTTPVersion string    `json:"httpVersion"`
	Cookies     []harPair `json:"cookies"`
	Headers     []harPair `json:"headers"`
	Content     struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
	} `json:"content"`
	RedirectURL string `json:"redirectURL"`
	HeadersSize int    `json:"headersSize"`
	BodySize    int    `json:"bodySize"`
}

func (c *harOut) entry(created time.Time) harOutEntry {
	o := c.open
	if o == nil {
		o = &inspect.Open{}
	}
	start := o.Start
	if start.IsZero() {
		start = created.Add(c.openT)
	}
	e := harOutEntry{
		StartedDateTime: start.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		Time:            float64((c.endT - c.openT).Microseconds()) / 1000, // ms, as HAR counts
		ConnectionID:    strconv.Itoa(c.id),
		ResourceType:    "websocket",
		Timings:         map[string]int{"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": 0, "receive": 0},
		Messages:        c.msgs,
	}
	if e.Messages == nil {
		e.Messages = []harOutMsg{}
	}
	for i := range e.Messages {
		m := &e.Messages[i]
		at := start.Add(m.t - c.openT)
		frac := strconv.FormatInt(int64(at.Nanosecond()/1000)+1e6, 10)[1:]
		m.Time = json.Number(strconv.FormatInt(at.Unix(), 10) + "." + frac)
	}
	u := o.URL
	if u == "" {
		host := ""
		for _, h := range o.Request.Headers {
			if strings.EqualFold(h.Name, "Host") {
				host = h.Value
			}
		}
		u = "ws://" + host + o.Request.Target
	}
	method := o.Request.Method
	if method == "" {
		method = "GET"
	}
	e.Request = harOutRequest{Method: method, URL: u, HTTPVersion: o.Request.Proto,
		Cookies: []harPair{}, Headers: harPairs(o.Request.Headers), QueryString: []harPair{},
		HeadersSize: -1}
	if pu, err := url.Parse(u); err == nil && pu.RawQuery != "" {
		for _, kv := range strings.Split(pu.RawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			}
			e.Request.QueryString = append(e.Request.QueryString, harPair{Name: k, Value: v})
		}
	}
	e.Response = harOutResponse{Status: o.Response.Status, StatusText: o.Response.Reason,
		HTTPVersion: o.Response.Proto, Cookies: []harPair{}, Headers: harPairs(o.Response.Headers),
		HeadersSize: -1}
	e.Response.Content.MimeType = "x-unknown"
	server := o.Remote
	if o.Role == inspect.RoleServer {
		server = o.Local // a server's remote end is the client
	}
	if host, port, err := net.SplitHostPort(server); err == nil {
		e.ServerIPAddress, e.Connection = host, port // Chrome: connection is the remote port
	}
	return e
}

func harPairs(hs []inspect.HeaderField) []harPair {
	out := make([]harPair, len(hs))
	for i, h := range hs {
		out[i] = harPair{Name: h.Name, Value: h.Value}
	}
	return out
}

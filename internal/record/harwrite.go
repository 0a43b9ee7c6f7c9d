package record

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"iter"
	"net"
	"net/url"
	"strconv"
	"strings"
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

// WriteHAR writes events as a HAR 1.2 file with one entry per connection
// in the form Chrome exports WebSockets: the handshake as request and
// response, _resourceType "websocket", and _webSocketMessages with every
// message (type send for client to server, receive for server to client,
// time in epoch seconds, opcode 1 with the text, 2 with base64), every
// control frame (opcodes 8, 9, 10, base64) and every error event (type
// error, opcode -1). Message times are the connection's wall-clock start
// (Open.Start) plus the time since its open event; without an open event
// the recording's Created time stands in. startedDateTime is written to
// the microsecond (Chrome writes milliseconds), so that message times
// survive an export and import exactly.
//
// HAR nests messages inside their connection, so WriteHAR keeps every
// message in memory until the events end. It stops at the first error the
// iterator yields and returns it.
func WriteHAR(w io.Writer, h inspect.RecordingHeader, events iter.Seq2[*inspect.Event, error]) error {
	var (
		conns []*harOut
		byID  = map[int]*harOut{}
	)
	get := func(e *inspect.Event) *harOut {
		c := byID[e.Conn]
		if c == nil {
			c = &harOut{id: e.Conn, openT: e.T}
			byID[e.Conn] = c
			conns = append(conns, c)
		}
		return c
	}
	for e, err := range events {
		if err != nil {
			return err
		}
		switch e.Kind {
		case inspect.KindOpen:
			if e.Open != nil {
				c := get(e)
				c.open = CloneEvent(e).Open
				c.openT = e.T
			}
		case inspect.KindMsg:
			m := e.Msg
			if m == nil {
				continue
			}
			hm := harOutMsg{t: e.T, Type: harType(m.Dir), Opcode: int(m.Op)}
			if m.Op == inspect.OpText {
				hm.Data = string(m.Payload)
			} else {
				hm.Data = base64.StdEncoding.EncodeToString(m.Payload)
			}
			c := get(e)
			c.msgs = append(c.msgs, hm)
		case inspect.KindFrame:
			f := e.Frame
			if f == nil || !f.Op.IsControl() {
				continue // data frames are in their msg events
			}
			c := get(e)
			c.msgs = append(c.msgs, harOutMsg{t: e.T, Type: harType(f.Dir), Opcode: int(f.Op),
				Data: base64.StdEncoding.EncodeToString(f.Payload)})
		case inspect.KindError:
			c := get(e)
			c.msgs = append(c.msgs, harOutMsg{t: e.T, Type: "error", Opcode: -1, Data: e.Text})
		}
	}

	bw := bufio.NewWriter(w)
	creator := h.Tool
	if creator == "" {
		creator = "wscope"
	}
	head, _ := json.MarshalIndent(struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}{creator, h.Version}, "    ", "  ")
	bw.WriteString("{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": ")
	bw.Write(head)
	bw.WriteString(",\n    \"pages\": [],\n    \"entries\": [")
	for i, c := range conns {
		if i > 0 {
			bw.WriteByte(',')
		}
		b, err := json.MarshalIndent(c.entry(h.Created), "      ", "  ")
		if err != nil {
			return err
		}
		bw.WriteString("\n      ")
		bw.Write(b)
	}
	bw.WriteString("\n    ]\n  }\n}\n")
	return bw.Flush()
}

func harType(d inspect.Direction) string {
	if d == inspect.ClientToServer {
		return "send"
	}
	return "receive"
}

type harOut struct {
	id    int
	open  *inspect.Open
	openT time.Duration
	msgs  []harOutMsg
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
	if host, port, err := net.SplitHostPort(o.Remote); err == nil {
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

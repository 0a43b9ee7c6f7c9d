// Package stomp decodes STOMP 1.0, 1.1 and 1.2 over WebSocket
// (subprotocols v10.stomp, v11.stomp, v12.stomp), as the STOMP Protocol
// Specification, Version 1.2 (stomp.github.io) defines its frames: a
// command line, header lines, a blank line, the body and a NUL; a body
// with content-length may hold NULs. EOLs between frames are heart-beats.
// A frame may span messages and a message may hold several frames.
// Header values are unescaped (\r \n \c \\) in 1.1 and 1.2, except in
// CONNECT and CONNECTED; when a header repeats, the first one counts.
package stomp

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

const label = "stomp"

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:         "stomp",
	Title:        "STOMP 1.0-1.2",
	Subprotocols: []string{"v12.stomp", "v11.stomp", "v10.stomp"},
	URL:          appproto.PathEnds("/stomp"),
	Sniff: func(m *inspect.Message) string {
		p := m.Payload
		if m.Dir != inspect.ClientToServer {
			return ""
		}
		for _, c := range []string{"CONNECT\n", "CONNECT\r\n", "STOMP\n", "STOMP\r\n"} {
			if bytes.HasPrefix(p, []byte(c)) && bytes.IndexByte(p, 0) > 0 {
				return "a " + strings.TrimSpace(c) + " frame from the client"
			}
		}
		return ""
	},
	New: func(sub string) appproto.Decoder { return &Decoder{version: versionOf(sub)} },
}

func versionOf(sub string) string {
	switch strings.ToLower(sub) {
	case "v10.stomp":
		return "1.0"
	case "v11.stomp":
		return "1.1"
	}
	return "1.2"
}

var clientCommands = []string{"CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT", "DISCONNECT"}

var serverCommands = []string{"CONNECTED", "MESSAGE", "RECEIPT", "ERROR"}

// Decoder holds each direction's frame still incomplete.
type Decoder struct {
	version string // from the subprotocol, then from CONNECTED
	buf     appproto.Partial
	pending appproto.Pending // receipt -> command
}

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	slot, b := d.buf.Join(m)
	var out []inspect.Decoded
	for {
		// Heart-beats: EOLs where a frame could start.
		n := 0
		for n < len(b) && (b[n] == '\n' || b[n] == '\r') {
			n++
		}
		if n > 0 {
			out = append(out, inspect.Decoded{Protocol: label, Type: "heart-beat", Summary: label + " heart-beat"})
			b = b[n:]
		}
		if len(b) == 0 {
			break
		}
		size, u, complete := d.frame(m.Dir, b)
		if !complete {
			if len(b) > appproto.MaxBuffer {
				out = append(out, appproto.Failed(label, "frame longer than "+strconv.Itoa(appproto.MaxBuffer)+" bytes without its end"))
				break
			}
			d.buf.Hold(slot, b)
			if len(out) == 0 {
				out = append(out, inspect.Decoded{Protocol: label, Type: "partial", Summary: label + " (partial frame, " + appproto.Size(len(b)) + " so far)"})
			}
			break
		}
		out = append(out, u)
		if u.Err != "" && size == 0 {
			break
		}
		b = b[size:]
	}
	return out
}

// frame reads one frame from b: its size, the unit, and whether b holds
// all of it.
func (d *Decoder) frame(dir inspect.Direction, b []byte) (int, inspect.Decoded, bool) {
	end := bytes.Index(b, []byte("\n\n"))
	endCR := bytes.Index(b, []byte("\r\n\r\n"))
	headEnd, bodyStart := end, end+2
	if endCR >= 0 && (end < 0 || endCR < end) {
		headEnd, bodyStart = endCR, endCR+4
	}
	if headEnd < 0 {
		if bytes.IndexByte(b, 0) >= 0 {
			return 0, appproto.Failed(label, "frame without the blank line that ends its headers"), true
		}
		return 0, inspect.Decoded{}, false
	}
	lines := strings.Split(strings.ReplaceAll(string(b[:headEnd]), "\r\n", "\n"), "\n")
	cmd := lines[0]
	u := inspect.Decoded{Protocol: label, Type: cmd}
	if !has(clientCommands, cmd) && !has(serverCommands, cmd) {
		u.Err = "unknown command " + strconv.Quote(appproto.Preview(cmd))
	}
	escape := d.version != "1.0" && cmd != "CONNECT" && cmd != "CONNECTED" && cmd != "STOMP"
	headers := map[string]string{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			u.Err = "header line without a colon: " + strconv.Quote(appproto.Preview(l))
			continue
		}
		if escape {
			k, v = unescape(k), unescape(v)
		}
		if _, dup := headers[k]; dup {
			continue // section "Repeated Header Entries": the first counts
		}
		headers[k] = v
		u.Fields = append(u.Fields, appproto.Str(k, v))
	}
	body := b[bodyStart:]
	var size int
	if cl, ok := headers["content-length"]; ok {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			u.Err = "content-length is not a number: " + strconv.Quote(cl)
			return 0, d.finish(u, headers, nil), true
		}
		if n > appproto.MaxBuffer {
			u.Err = "content-length " + cl + " is more than this decoder holds"
			return 0, d.finish(u, headers, nil), true
		}
		if len(body) < n+1 {
			return 0, inspect.Decoded{}, false
		}
		if body[n] != 0 {
			u.Err = "no NUL after content-length bytes of body"
		}
		body, size = body[:n], bodyStart+n+1
	} else {
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return 0, inspect.Decoded{}, false
		}
		body, size = body[:i], bodyStart+i+1
	}
	if cmd == "CONNECTED" && headers["version"] != "" {
		d.version = headers["version"]
	}
	return size, d.finish(u, headers, body), true
}

func (d *Decoder) finish(u inspect.Decoded, h map[string]string, body []byte) inspect.Decoded {
	if body != nil {
		u.Fields = append(u.Fields, appproto.Int("bodySize", int64(len(body))))
		if utf8.Valid(body) {
			u.Fields = append(u.Fields, appproto.Str("body", string(body)))
		}
	}
	words := []string{u.Type}
	for _, k := range []string{"destination", "id", "subscription", "message-id", "receipt", "receipt-id", "ack", "transaction", "version", "accept-version", "heart-beat", "message"} {
		if v, ok := h[k]; ok {
			words = append(words, k+"="+appproto.Preview(v))
		}
	}
	if len(body) > 0 {
		words = append(words, appproto.Size(len(body)))
	}
	u.Op = h["destination"]
	switch {
	case h["receipt"] != "":
		u.Corr, u.CorrRole = "receipt "+h["receipt"], inspect.CorrRequest
		d.pending.Put(u.Corr, u.Op)
	case h["receipt-id"] != "":
		u.Corr, u.CorrRole = "receipt "+h["receipt-id"], inspect.CorrAnswer
		u.Op = d.pending.Take(u.Corr)
	case u.Type == "CONNECT" || u.Type == "STOMP":
		u.Corr, u.CorrRole = "connect", inspect.CorrRequest
	case u.Type == "CONNECTED":
		u.Corr, u.CorrRole = "connect", inspect.CorrAnswer
	}
	u.Summary = appproto.Summary(label, words...)
	if len(body) > 0 && utf8.Valid(body) {
		u.Summary += " " + strconv.Quote(appproto.Preview(string(body)))
	}
	if u.Err != "" {
		u.Summary += " ?? " + u.Err
	}
	return u
}

// unescape undoes the escapes of STOMP 1.2's "Value Encoding"; an
// undefined escape is kept as it is.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 'c':
			b.WriteByte(':')
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

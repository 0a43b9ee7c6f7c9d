package pcap

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/wscope/wscope/inspect"
)

// maxHead bounds an HTTP request or response head. Real handshakes are a
// few hundred bytes; a stream that has sent this much without ending its
// head is not one.
const maxHead = 64 << 10

// headEnd returns the length of the HTTP head at the start of b, blank
// line included, or -1 when b does not hold a whole head yet.
func headEnd(b []byte) int {
	crlf := bytes.Index(b, []byte("\r\n\r\n"))
	lf := bytes.Index(b, []byte("\n\n"))
	switch {
	case crlf >= 0 && (lf < 0 || crlf+2 <= lf):
		return crlf + 4
	case lf >= 0:
		return lf + 2
	}
	return -1
}

// plausibleHTTP reports whether b can be the start of an HTTP/1 request or
// response, so that other protocols are dropped after their first bytes.
func plausibleHTTP(b []byte) bool {
	const resp = "HTTP/"
	if n := min(len(b), len(resp)); string(b[:n]) == resp[:n] {
		return true
	}
	// A request: a method (a token of capital letters) and a space.
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c == '-', c == '_':
			if i >= 24 {
				return false
			}
		case c == ' ':
			return i > 0
		default:
			return false
		}
	}
	return true
}

// isResponse reports whether b starts like an HTTP response.
func isResponse(b []byte) bool { return bytes.HasPrefix(b, []byte("HTTP/")) }

// parseHead splits an HTTP head into its three start-line fields and its
// header fields, in order. Folded continuation lines join the header they
// continue.
func parseHead(b []byte) (first [3]string, hs []inspect.HeaderField, ok bool) {
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	start := strings.TrimSuffix(lines[0], "\r")
	f := strings.SplitN(start, " ", 3)
	if len(f) < 2 {
		return first, nil, false
	}
	copy(first[:], f)
	for _, l := range lines[1:] {
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(hs) > 0 {
			last := &hs[len(hs)-1]
			last.Value = strings.TrimSpace(last.Value + " " + strings.TrimSpace(l))
			continue
		}
		name, value, found := strings.Cut(l, ":")
		if !found {
			return first, nil, false
		}
		hs = append(hs, inspect.HeaderField{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	return first, hs, true
}

func parseRequest(b []byte) (inspect.Request, bool) {
	first, hs, ok := parseHead(b)
	if !ok || first[2] == "" || !strings.HasPrefix(first[2], "HTTP/") {
		return inspect.Request{}, false
	}
	return inspect.Request{Method: first[0], Target: first[1], Proto: first[2], Headers: hs}, true
}

func parseResponse(b []byte) (inspect.Response, bool) {
	first, hs, ok := parseHead(b)
	if !ok || !strings.HasPrefix(first[0], "HTTP/") {
		return inspect.Response{}, false
	}
	status, err := strconv.Atoi(first[1])
	if err != nil || status < 100 || status > 999 {
		return inspect.Response{}, false
	}
	return inspect.Response{Proto: first[0], Status: status, Reason: first[2], Headers: hs}, true
}

// headerValues returns every value of the named header joined with ", ",
// as a list-valued header may be split over several lines.
func headerValues(hs []inspect.HeaderField, name string) string {
	var vs []string
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			vs = append(vs, h.Value)
		}
	}
	return strings.Join(vs, ", ")
}

// hasToken reports whether the comma-separated list s holds tok, ignoring
// case.
func hasToken(s, tok string) bool {
	for t := range strings.SplitSeq(s, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// isUpgrade reports whether req asks for a WebSocket connection.
func isUpgrade(req inspect.Request) bool {
	return req.Method == "GET" && hasToken(headerValues(req.Headers, "Upgrade"), "websocket")
}

// requestURL rebuilds the URL a client asked for: the Host header (or the
// server's address) and the request target. The bytes were readable, so
// the scheme is ws.
func requestURL(req inspect.Request, server string) string {
	t := req.Target
	switch {
	case strings.HasPrefix(t, "http://"):
		return "ws://" + t[len("http://"):]
	case strings.HasPrefix(t, "https://"):
		return "wss://" + t[len("https://"):]
	case strings.HasPrefix(t, "ws://"), strings.HasPrefix(t, "wss://"):
		return t
	}
	host := headerValues(req.Headers, "Host")
	if host == "" || strings.ContainsAny(host, " ,/") {
		host = server
	}
	if !strings.HasPrefix(t, "/") {
		t = "/" + t
	}
	return "ws://" + host + t
}

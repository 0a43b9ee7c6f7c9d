package appproto

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
)

// PreviewRunes is how much of a value a summary shows.
const PreviewRunes = 60

// Str returns a field holding a string.
func Str(key, value string) inspect.DecodedField {
	return inspect.DecodedField{Key: key, Value: value}
}

// Int returns a field holding a number.
func Int(key string, n int64) inspect.DecodedField {
	return inspect.DecodedField{Key: key, Value: strconv.FormatInt(n, 10), JSON: true}
}

// JSON returns a field holding a JSON text, carried as JSON in
// recordings, compacted: a recording line stays one line. raw must be
// valid JSON.
func JSON(key string, raw []byte) inspect.DecodedField {
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return inspect.DecodedField{Key: key, Value: b.String(), JSON: true}
	}
	return inspect.DecodedField{Key: key, Value: string(raw)}
}

// Preview shortens s to PreviewRunes runes for a summary, control
// characters shown as spaces so the summary stays one line.
func Preview(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == PreviewRunes {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Summary builds a summary line: the protocol label, then the words.
// Empty words are left out.
func Summary(label string, words ...string) string {
	b := []byte(label)
	for _, w := range words {
		if w != "" {
			b = append(b, ' ')
			b = append(b, w...)
		}
	}
	return string(b)
}

// KV returns "key=value", or "" when value is "".
func KV(key, value string) string {
	if value == "" {
		return ""
	}
	return key + "=" + value
}

// Size returns "N B".
func Size(n int) string { return strconv.Itoa(n) + " B" }

// Failed returns the Decoded for bytes that do not follow the protocol.
func Failed(label string, err string, fields ...inspect.DecodedField) inspect.Decoded {
	return inspect.Decoded{Protocol: label, Type: "error", Summary: label + " ?? " + err, Fields: fields, Err: err}
}

// Peer returns the other direction.
func Peer(d inspect.Direction) inspect.Direction {
	if d == inspect.ClientToServer {
		return inspect.ServerToClient
	}
	return inspect.ClientToServer
}

// IsJSONText reports whether m is a text message whose first byte that
// is not white space is c ('{' or '[').
func IsJSONText(m *inspect.Message, c byte) bool {
	if m.Op != inspect.OpText {
		return false
	}
	for _, b := range m.Payload {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b == c
	}
	return false
}

// PreviewJSON returns raw compacted and shortened for a summary; "" for
// nothing.
func PreviewJSON(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return Preview(string(raw))
	}
	return Preview(b.String())
}

package inspect

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"
)

// FormatVersion is the major version of the recording format this package
// writes (docs/recording-format.md).
const FormatVersion = 1

// AppendJSON appends e as one line of the recording format (without the
// newline), keys in the documented order. It allocates nothing for frame
// and message events.
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendFloat(b, e.T.Seconds(), 'f', 6, 64)
	b = append(b, `,"ev":"`...)
	b = append(b, e.Kind.String()...)
	b = append(b, `","conn":`...)
	b = strconv.AppendInt(b, int64(e.Conn), 10)
	switch {
	case e.Kind == KindFrame && e.Frame != nil:
		b = appendFrame(b, e.Frame)
	case e.Kind == KindMsg && e.Msg != nil:
		b = appendMessage(b, e.Msg)
	case e.Kind == KindOpen && e.Open != nil:
		b = appendOpen(b, e.Open)
	case e.Kind == KindEnd && e.End != nil:
		b = appendEnd(b, e.End)
	default:
		if e.Text != "" {
			b = append(b, `,"text":`...)
			b = AppendJSONString(b, e.Text)
		}
	}
	return append(b, '}')
}

func appendFrame(b []byte, f *Frame) []byte {
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, f.Seq, 10)
	b = append(b, `,"dir":"`...)
	b = append(b, f.Dir.String()...)
	b = append(b, `","fin":`...)
	b = strconv.AppendBool(b, f.Fin)
	b = append(b, `,"rsv1":`...)
	b = strconv.AppendBool(b, f.Rsv1())
	b = append(b, `,"rsv2":`...)
	b = strconv.AppendBool(b, f.Rsv2())
	b = append(b, `,"rsv3":`...)
	b = strconv.AppendBool(b, f.Rsv3())
	b = append(b, `,"op":"`...)
	b = append(b, f.Op.String()...)
	b = append(b, `","masked":`...)
	b = strconv.AppendBool(b, f.Masked)
	if f.Masked {
		b = append(b, `,"mask":"`...)
		b = hex.AppendEncode(b, f.Mask[:])
		b = append(b, '"')
	}
	b = append(b, `,"len":`...)
	b = strconv.AppendUint(b, f.Length, 10)
	if f.LenEnc != 0 && f.LenEnc != MinimalLengthEncoding(f.Length) {
		b = append(b, `,"len_enc":`...)
		b = append(b, f.LenEnc.String()...)
	}
	if uint64(len(f.Payload)) != f.Length {
		b = append(b, `,"truncated":true`...)
	}
	// A compressed or reserved-bit payload is not text, whatever it looks like.
	b = appendPayload(b, f.Payload, f.Rsv == 0 && f.Op != OpBinary)
	if f.Close != nil {
		b = appendCloseObject(append(b, `,"close":`...), f.Close)
	}
	return appendViolations(b, f.Violations)
}

func appendMessage(b []byte, m *Message) []byte {
	b = append(b, `,"dir":"`...)
	b = append(b, m.Dir.String()...)
	b = append(b, `","op":"`...)
	b = append(b, m.Op.String()...)
	b = append(b, `","frames":[`...)
	for i, s := range m.Frames {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, s, 10)
	}
	b = append(b, ']')
	if m.FrameCount > len(m.Frames) {
		b = append(b, `,"frame_count":`...)
		b = strconv.AppendInt(b, int64(m.FrameCount), 10)
	}
	b = append(b, `,"deflated":`...)
	b = strconv.AppendBool(b, m.Deflated)
	if m.Deflated {
		b = append(b, `,"wire_len":`...)
		b = strconv.AppendInt(b, int64(m.WireLen), 10)
	}
	b = appendPayload(b, m.Payload, m.Op == OpText)
	b = appendViolations(b, m.Violations)
	return AppendDecodedJSON(b, m.Decoded)
}

// appendPayload writes "text" when textual is allowed and p is valid
// UTF-8, "b64" otherwise.
func appendPayload(b, p []byte, textual bool) []byte {
	if textual && utf8.Valid(p) {
		b = append(b, `,"text":`...)
		return appendJSONBytes(b, p)
	}
	b = append(b, `,"b64":"`...)
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

func appendViolations(b []byte, vs []Violation) []byte {
	if len(vs) == 0 {
		return b
	}
	b = append(b, `,"violations":[`...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule":`...)
		b = AppendJSONString(b, string(v.Rule))
		b = append(b, `,"section":`...)
		b = AppendJSONString(b, v.Section)
		b = append(b, `,"msg":`...)
		b = AppendJSONString(b, v.Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendOpen(b []byte, o *Open) []byte {
	b = append(b, `,"url":`...)
	b = AppendJSONString(b, o.URL)
	b = append(b, `,"role":`...)
	b = AppendJSONString(b, string(o.Role))
	b = append(b, `,"request":{"method":`...)
	b = AppendJSONString(b, o.Request.Method)
	b = append(b, `,"target":`...)
	b = AppendJSONString(b, o.Request.Target)
	b = append(b, `,"proto":`...)
	b = AppendJSONString(b, o.Request.Proto)
	b = append(b, `,"headers":`...)
	b = appendPairs(b, o.Request.Headers)
	b = append(b, `},"response":{"proto":`...)
	b = AppendJSONString(b, o.Response.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(o.Response.Status), 10)
	b = append(b, `,"reason":`...)
	b = AppendJSONString(b, o.Response.Reason)
	b = append(b, `,"headers":`...)
	b = appendPairs(b, o.Response.Headers)
	b = append(b, `},"subprotocol":`...)
	b = AppendJSONString(b, o.Subprotocol)
	b = append(b, `,"extensions":[`...)
	for i, x := range o.Extensions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = AppendJSONString(b, x.Name)
		b = append(b, `,"params":`...)
		b = appendPairs(b, x.Params)
		b = append(b, '}')
	}
	b = append(b, `],"local":`...)
	b = AppendJSONString(b, o.Local)
	b = append(b, `,"remote":`...)
	b = AppendJSONString(b, o.Remote)
	if t := o.TLS; t != nil {
		b = append(b, `,"tls":{"version":`...)
		b = AppendJSONString(b, t.Version)
		b = append(b, `,"cipher":`...)
		b = AppendJSONString(b, t.Cipher)
		b = append(b, `,"sni":`...)
		b = AppendJSONString(b, t.SNI)
		b = append(b, `,"peer_subject":`...)
		b = AppendJSONString(b, t.PeerSubject)
		b = append(b, '}')
	}
	b = append(b, `,"start":"`...)
	b = o.Start.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	return AppendDecoderJSON(b, o)
}

func appendEnd(b []byte, e *End) []byte {
	b = append(b, `,"clean":`...)
	b = strconv.AppendBool(b, e.Clean)
	b = append(b, `,"code":`...)
	b = strconv.AppendUint(b, uint64(e.Code), 10)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, e.Code.Name())
	b = append(b, `,"reason":`...)
	b = AppendJSONString(b, e.Reason)
	b = append(b, `,"closer":`...)
	b = AppendJSONString(b, e.Closer)
	b = append(b, `,"tcp":`...)
	b = AppendJSONString(b, e.TCP)
	if e.Err != "" {
		b = append(b, `,"error":`...)
		b = AppendJSONString(b, e.Err)
	}
	if e.ClientClose != nil || e.ServerClose != nil {
		b = append(b, `,"closes":{`...)
		if c := e.ClientClose; c != nil {
			b = appendCloseObject(append(b, `"c2s":`...), c)
		}
		if c := e.ServerClose; c != nil {
			if e.ClientClose != nil {
				b = append(b, ',')
			}
			b = appendCloseObject(append(b, `"s2c":`...), c)
		}
		b = append(b, '}')
	}
	if e.Violations > 0 {
		b = append(b, `,"violations":`...)
		b = strconv.AppendInt(b, int64(e.Violations), 10)
	}
	if v := e.FirstViolation; v != nil {
		b = append(b, `,"first_violation":{"rule":`...)
		b = AppendJSONString(b, string(v.Rule))
		b = append(b, `,"section":`...)
		b = AppendJSONString(b, v.Section)
		b = append(b, `,"msg":`...)
		b = AppendJSONString(b, v.Message)
		b = append(b, `,"dir":"`...)
		b = append(b, v.Dir.String()...)
		b = append(b, `","seq":`...)
		b = strconv.AppendUint(b, v.Seq, 10)
		b = append(b, '}')
	}
	return b
}

// appendCloseObject writes {"code":N,"name":"...","reason":"..."}.
func appendCloseObject(b []byte, c *Close) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendUint(b, uint64(c.Code), 10)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, c.Code.Name())
	b = append(b, `,"reason":`...)
	b = AppendJSONString(b, c.Reason)
	return append(b, '}')
}

func appendPairs(b []byte, hs []HeaderField) []byte {
	b = append(b, '[')
	for i, h := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = AppendJSONString(b, h.Name)
		b = append(b, ',')
		b = AppendJSONString(b, h.Value)
		b = append(b, ']')
	}
	return append(b, ']')
}

// RecordingHeader is the first line of a recording.
type RecordingHeader struct {
	Created  time.Time
	Tool     string
	Version  string
	Source   string // live, har, pcap
	Lossy    bool
	Redacted []string // header names whose values were replaced
}

// AppendJSON appends the header line (without the newline).
func (h *RecordingHeader) AppendJSON(b []byte) []byte {
	b = append(b, `{"wsrec":`...)
	b = strconv.AppendInt(b, FormatVersion, 10)
	b = append(b, `,"created":"`...)
	b = h.Created.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","tool":{"name":`...)
	b = AppendJSONString(b, h.Tool)
	b = append(b, `,"version":`...)
	b = AppendJSONString(b, h.Version)
	b = append(b, `},"source":`...)
	b = AppendJSONString(b, h.Source)
	b = append(b, `,"lossy":`...)
	b = strconv.AppendBool(b, h.Lossy)
	b = append(b, `,"redacted":[`...)
	for i, r := range h.Redacted {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, r)
	}
	return append(b, "]}"...)
}

// AppendJSONString appends s as a JSON string.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// appendJSONString escapes s for JSON; it is generic so a []byte payload
// is escaped in place, without a conversion to string (which allocates).
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript parsers of JSON lines.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, "89"[r-'\u2028'])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeRune is utf8.DecodeRune for a string or a []byte.
func decodeRune[T string | []byte](s T) (rune, int) {
	var buf [utf8.UTFMax]byte
	return utf8.DecodeRune(buf[:copy(buf[:], s)])
}

func appendJSONBytes(b, p []byte) []byte {
	// Fast path: nothing to escape.
	for _, c := range p {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendJSONString(b, p)
		}
	}
	b = append(b, '"')
	b = append(b, p...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

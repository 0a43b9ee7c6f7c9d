package record

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
)

// FormatVersion is the major version of the recording format this package
// writes and reads (docs/recording-format.md).
const FormatVersion = 1

// AppendEvent appends e as one line of the recording format (without the
// newline), keys in the documented order. It allocates nothing for frame
// and message events.
func AppendEvent(b []byte, e *inspect.Event) []byte {
	b = append(b, `{"t":`...)
	b = appendSeconds(b, e.T)
	b = append(b, `,"ev":"`...)
	b = append(b, e.Kind.String()...)
	b = append(b, `","conn":`...)
	b = strconv.AppendInt(b, int64(e.Conn), 10)
	switch {
	case e.Kind == inspect.KindFrame && e.Frame != nil:
		b = appendFrame(b, e.Frame)
	case e.Kind == inspect.KindMsg && e.Msg != nil:
		b = appendMessage(b, e.Msg)
	case e.Kind == inspect.KindOpen && e.Open != nil:
		b = appendOpen(b, e.Open)
	case e.Kind == inspect.KindEnd && e.End != nil:
		b = appendEnd(b, e.End)
	default:
		if e.Text != "" {
			b = append(b, `,"text":`...)
			b = inspect.AppendJSONString(b, e.Text)
		}
	}
	return append(b, '}')
}

// finRsv holds the keys from "fin" to "op" for each value of FIN and the
// three RSV bits, written in one copy: they are most of a frame line.
var finRsv = func() (t [16]string) {
	for i := range t {
		t[i] = fmt.Sprintf(`","fin":%t,"rsv1":%t,"rsv2":%t,"rsv3":%t,"op":"`, i&8 != 0, i&4 != 0, i&2 != 0, i&1 != 0)
	}
	return t
}()

func finRsvIndex(f *inspect.Frame) int {
	i := 0
	if f.Fin {
		i = 8
	}
	if f.Rsv1() {
		i |= 4
	}
	if f.Rsv2() {
		i |= 2
	}
	if f.Rsv3() {
		i |= 1
	}
	return i
}

func appendFrame(b []byte, f *inspect.Frame) []byte { return appendFrameAs(b, f, false) }

// appendFrameAs writes a frame; inMsg writes "payload":"msg" in place of
// its payload, which the msg line right after it carries.
func appendFrameAs(b []byte, f *inspect.Frame, inMsg bool) []byte {
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, f.Seq, 10)
	b = append(b, `,"dir":"`...)
	b = append(b, f.Dir.String()...)
	b = append(b, finRsv[finRsvIndex(f)]...)
	b = append(b, f.Op.String()...)
	if f.Masked {
		b = append(b, `","masked":true,"mask":"`...)
		b = hex.AppendEncode(b, f.Mask[:])
		b = append(b, '"')
	} else {
		b = append(b, `","masked":false`...)
	}
	b = append(b, `,"len":`...)
	b = strconv.AppendUint(b, f.Length, 10)
	if f.LenEnc != 0 && f.LenEnc != inspect.MinimalLengthEncoding(f.Length) {
		b = append(b, `,"len_enc":`...)
		b = append(b, f.LenEnc.String()...)
	}
	switch {
	case inMsg:
		b = append(b, `,"payload":"msg"`...)
	case uint64(len(f.Payload)) != f.Length:
		b = append(b, `,"truncated":true`...)
		fallthrough
	default:
		// A compressed or reserved-bit payload is not text, whatever it
		// looks like.
		b = appendPayload(b, f.Payload, f.Rsv == 0 && f.Op != inspect.OpBinary)
	}
	if f.Close != nil {
		b = appendCloseObject(append(b, `,"close":`...), f.Close)
	}
	return appendViolations(b, f.Violations)
}

// wholeMessage reports whether f is a message in one frame, uncompressed:
// the frame whose msg event, written next, holds the same payload. Below
// minInMsg bytes "payload":"msg" is no shorter than the payload.
func wholeMessage(f *inspect.Frame) bool {
	return f.Fin && f.Rsv == 0 && (f.Op == inspect.OpText || f.Op == inspect.OpBinary) &&
		uint64(len(f.Payload)) == f.Length && len(f.Payload) >= minInMsg && f.Close == nil
}

const minInMsg = 8

// sameMessage reports whether m is the message of f alone.
func sameMessage(f *inspect.Frame, m *inspect.Message) bool {
	return len(m.Frames) == 1 && m.Frames[0] == f.Seq && m.FrameCount <= 1 && !m.Deflated &&
		m.Dir == f.Dir && m.Op == f.Op && bytes.Equal(m.Payload, f.Payload)
}

func appendMessage(b []byte, m *inspect.Message) []byte {
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
	b = appendPayload(b, m.Payload, m.Op == inspect.OpText)
	b = appendViolations(b, m.Violations)
	return inspect.AppendDecodedJSON(b, m.Decoded)
}

// appendPayload writes "text" when textual is allowed and p is valid
// UTF-8, "b64" otherwise. Plain ASCII, the common text payload, is
// checked once and copied.
func appendPayload(b, p []byte, textual bool) []byte {
	switch {
	case textual && inspect.IsPlainJSON(p):
		b = append(b, `,"text":"`...)
		b = append(b, p...)
		return append(b, '"')
	case textual && utf8.Valid(p):
		b = append(b, `,"text":`...)
		return inspect.AppendJSONBytes(b, p)
	}
	b = append(b, `,"b64":"`...)
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// appendSeconds writes d as seconds with six decimals, as
// strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64) does but in integers
// (the float formatting was a tenth of the cost of a frame event).
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 {
		b = append(b, '-')
		d = -d
		if d < 0 { // the most negative Duration
			d = -(d + 1)
		}
	}
	us := (uint64(d) + 500) / 1000
	b = strconv.AppendUint(b, us/1e6, 10)
	frac := us % 1e6
	hi, mid, lo := frac/1e4, frac/100%100, frac%100
	return append(b, '.', twoDigits[2*hi], twoDigits[2*hi+1], twoDigits[2*mid], twoDigits[2*mid+1], twoDigits[2*lo], twoDigits[2*lo+1])
}

func appendViolations(b []byte, vs []inspect.Violation) []byte {
	if len(vs) == 0 {
		return b
	}
	b = append(b, `,"violations":[`...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule":`...)
		b = inspect.AppendJSONString(b, string(v.Rule))
		b = append(b, `,"section":`...)
		b = inspect.AppendJSONString(b, v.Section)
		b = append(b, `,"msg":`...)
		b = inspect.AppendJSONString(b, v.Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendOpen(b []byte, o *inspect.Open) []byte {
	b = append(b, `,"url":`...)
	b = inspect.AppendJSONString(b, o.URL)
	b = append(b, `,"role":`...)
	b = inspect.AppendJSONString(b, string(o.Role))
	b = append(b, `,"request":{"method":`...)
	b = inspect.AppendJSONString(b, o.Request.Method)
	b = append(b, `,"target":`...)
	b = inspect.AppendJSONString(b, o.Request.Target)
	b = append(b, `,"proto":`...)
	b = inspect.AppendJSONString(b, o.Request.Proto)
	b = append(b, `,"headers":`...)
	b = appendPairs(b, o.Request.Headers)
	b = append(b, `},"response":{"proto":`...)
	b = inspect.AppendJSONString(b, o.Response.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(o.Response.Status), 10)
	b = append(b, `,"reason":`...)
	b = inspect.AppendJSONString(b, o.Response.Reason)
	b = append(b, `,"headers":`...)
	b = appendPairs(b, o.Response.Headers)
	b = append(b, `},"subprotocol":`...)
	b = inspect.AppendJSONString(b, o.Subprotocol)
	b = append(b, `,"extensions":[`...)
	for i, x := range o.Extensions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = inspect.AppendJSONString(b, x.Name)
		b = append(b, `,"params":`...)
		b = appendPairs(b, x.Params)
		b = append(b, '}')
	}
	b = append(b, `],"local":`...)
	b = inspect.AppendJSONString(b, o.Local)
	b = append(b, `,"remote":`...)
	b = inspect.AppendJSONString(b, o.Remote)
	if t := o.TLS; t != nil {
		b = append(b, `,"tls":{"version":`...)
		b = inspect.AppendJSONString(b, t.Version)
		b = append(b, `,"cipher":`...)
		b = inspect.AppendJSONString(b, t.Cipher)
		b = append(b, `,"sni":`...)
		b = inspect.AppendJSONString(b, t.SNI)
		b = append(b, `,"peer_subject":`...)
		b = inspect.AppendJSONString(b, t.PeerSubject)
		// Each client field on its own: a reader may have kept some and
		// not others, and a rewrite must keep what it read.
		if t.ClientSubject != "" {
			b = append(b, `,"client_subject":`...)
			b = inspect.AppendJSONString(b, t.ClientSubject)
		}
		if t.ClientIssuer != "" {
			b = append(b, `,"client_issuer":`...)
			b = inspect.AppendJSONString(b, t.ClientIssuer)
		}
		if t.ClientSHA256 != "" {
			b = append(b, `,"client_sha256":`...)
			b = inspect.AppendJSONString(b, t.ClientSHA256)
		}
		b = append(b, '}')
	}
	b = append(b, `,"start":"`...)
	b = o.Start.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	return inspect.AppendDecoderJSON(b, o)
}

func appendEnd(b []byte, e *inspect.End) []byte {
	b = append(b, `,"clean":`...)
	b = strconv.AppendBool(b, e.Clean)
	b = append(b, `,"code":`...)
	b = strconv.AppendUint(b, uint64(e.Code), 10)
	b = append(b, `,"name":`...)
	b = inspect.AppendJSONString(b, e.Code.Name())
	b = append(b, `,"reason":`...)
	b = inspect.AppendJSONString(b, e.Reason)
	b = append(b, `,"closer":`...)
	b = inspect.AppendJSONString(b, e.Closer)
	b = append(b, `,"tcp":`...)
	b = inspect.AppendJSONString(b, e.TCP)
	if e.Err != "" {
		b = append(b, `,"error":`...)
		b = inspect.AppendJSONString(b, e.Err)
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
		b = inspect.AppendJSONString(b, string(v.Rule))
		b = append(b, `,"section":`...)
		b = inspect.AppendJSONString(b, v.Section)
		b = append(b, `,"msg":`...)
		b = inspect.AppendJSONString(b, v.Message)
		b = append(b, `,"dir":"`...)
		b = append(b, v.Dir.String()...)
		b = append(b, `","seq":`...)
		b = strconv.AppendUint(b, v.Seq, 10)
		b = append(b, '}')
	}
	return b
}

// appendCloseObject writes {"code":N,"name":"...","reason":"..."}.
func appendCloseObject(b []byte, c *inspect.Close) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendUint(b, uint64(c.Code), 10)
	b = append(b, `,"name":`...)
	b = inspect.AppendJSONString(b, c.Code.Name())
	b = append(b, `,"reason":`...)
	b = inspect.AppendJSONString(b, c.Reason)
	return append(b, '}')
}

func appendPairs(b []byte, hs []inspect.HeaderField) []byte {
	b = append(b, '[')
	for i, h := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = inspect.AppendJSONString(b, h.Name)
		b = append(b, ',')
		b = inspect.AppendJSONString(b, h.Value)
		b = append(b, ']')
	}
	return append(b, ']')
}

// AppendHeader appends h as the header line of a recording (without the
// newline).
func AppendHeader(b []byte, h inspect.RecordingHeader) []byte {
	b = append(b, `{"wsrec":`...)
	b = strconv.AppendInt(b, FormatVersion, 10)
	b = append(b, `,"created":"`...)
	b = h.Created.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","tool":{"name":`...)
	b = inspect.AppendJSONString(b, h.Tool)
	b = append(b, `,"version":`...)
	b = inspect.AppendJSONString(b, h.Version)
	b = append(b, `},"source":`...)
	b = inspect.AppendJSONString(b, h.Source)
	b = append(b, `,"lossy":`...)
	b = strconv.AppendBool(b, h.Lossy)
	b = append(b, `,"redacted":[`...)
	for i, r := range h.Redacted {
		if i > 0 {
			b = append(b, ',')
		}
		b = inspect.AppendJSONString(b, r)
	}
	return append(b, "]}"...)
}

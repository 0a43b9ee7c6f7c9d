package inspect

import (
	"encoding/hex"
	"strconv"
	"time"
)

// LineOptions shape the one-line, tcpdump-like rendering of events used
// by `-o frames`.
type LineOptions struct {
	ShowConn bool // prefix the connection id (listen, proxy)
	Preview  int  // runes of payload preview; 0 means 60
}

// AppendLine appends a one-line description of e (without the newline):
//
//	0.000512 c2s text   F--- M 9f1c2a7e len=5       "hello"
//
// time, direction, opcode, FIN and RSV1-3 flags, mask, length (with its
// encoding when not minimal), close code, preview, and the rules broken.
func AppendLine(b []byte, e *Event, o LineOptions) []byte {
	b = appendTime(b, e.T)
	if o.ShowConn {
		b = append(b, " #"...)
		b = strconv.AppendInt(b, int64(e.Conn), 10)
	}
	b = append(b, ' ')
	switch e.Kind {
	case KindFrame:
		return appendFrameLine(b, e.Frame, o)
	case KindMsg:
		m := e.Msg
		b = append(b, m.Dir.String()...)
		b = append(b, " msg    "...)
		b = appendPadded(b, m.Op.String(), 6)
		b = append(b, " frames="...)
		b = strconv.AppendInt(b, int64(len(m.Frames)), 10)
		b = append(b, " len="...)
		b = strconv.AppendInt(b, int64(len(m.Payload)), 10)
		if m.Deflated {
			b = append(b, " wire="...)
			b = strconv.AppendInt(b, int64(m.WireLen), 10)
			if len(m.Payload) > 0 {
				// The compression ratio: bytes on the wire per byte of payload.
				b = append(b, " ratio="...)
				b = strconv.AppendFloat(b, float64(m.WireLen)/float64(len(m.Payload)), 'f', 2, 64)
			}
		}
		b = append(b, ' ')
		b = append(b, Summary(m.Payload, m.Op, previewLen(o))...)
		return appendRules(b, m.Violations)
	case KindOpen:
		op := e.Open
		b = append(b, "open   "...)
		b = append(b, op.URL...)
		b = append(b, " ("...)
		b = append(b, op.Role...)
		b = append(b, ' ')
		b = append(b, op.Local...)
		b = append(b, " <-> "...)
		b = append(b, op.Remote...)
		b = append(b, ')')
		if op.Subprotocol != "" {
			b = append(b, " subprotocol="...)
			b = append(b, op.Subprotocol...)
		}
		for _, x := range op.Extensions {
			b = append(b, " ext="...)
			b = append(b, x.Name...)
		}
		return b
	case KindEnd:
		return append(b, "end    "+DescribeEnd(e.End)...)
	}
	b = append(b, e.Kind.String()...)
	b = append(b, ' ')
	return append(b, e.Text...)
}

func appendFrameLine(b []byte, f *Frame, o LineOptions) []byte {
	b = append(b, f.Dir.String()...)
	b = append(b, ' ')
	b = appendPadded(b, f.Op.String(), 6)
	b = append(b, ' ')
	b = append(b, flag(f.Fin, 'F'), flag(f.Rsv1(), '1'), flag(f.Rsv2(), '2'), flag(f.Rsv3(), '3'))
	if f.Masked {
		b = append(b, " M "...)
		b = hex.AppendEncode(b, f.Mask[:])
	} else {
		b = append(b, " - --------"...)
	}
	n := len(b)
	b = append(b, " len="...)
	b = strconv.AppendUint(b, f.Length, 10)
	if f.LenEnc != 0 && f.LenEnc != MinimalLengthEncoding(f.Length) {
		b = append(b, '/')
		b = append(b, f.LenEnc.String()...)
		b = append(b, "bit"...)
	}
	if uint64(len(f.Payload)) != f.Length {
		b = append(b, "(got "...)
		b = strconv.AppendInt(b, int64(len(f.Payload)), 10)
		b = append(b, ')')
	}
	for len(b)-n < 12 {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	switch {
	case f.Close != nil:
		b = strconv.AppendUint(b, uint64(f.Close.Code), 10)
		b = append(b, ' ')
		b = append(b, f.Close.Code.Name()...)
		if f.Close.Reason != "" {
			b = append(b, ' ')
			b = strconv.AppendQuote(b, f.Close.Reason)
		}
	case f.Op == OpClose && len(f.Payload) == 0:
		b = append(b, "(no status)"...)
	case f.Rsv1():
		b = append(b, Summary(f.Payload, OpBinary, previewLen(o))...)
	default:
		b = append(b, Summary(f.Payload, f.Op, previewLen(o))...)
	}
	return appendRules(b, f.Violations)
}

func appendRules(b []byte, vs []Violation) []byte {
	for i, v := range vs {
		if i == 0 {
			b = append(b, "  !! "...)
		} else {
			b = append(b, ", "...)
		}
		b = append(b, v.Rule...)
		b = append(b, " ("...)
		b = append(b, v.Section...)
		b = append(b, ')')
	}
	return b
}

// DescribeEnd says how a connection ended, in one line:
// "1000 Normal Closure by client, clean", or
// "1002 Protocol Error by server, after the client's 1000 Normal Closure,
// clean; 1 violation: rsv-without-extension (RFC 6455 5.2) by the server
// in frame 3".
func DescribeEnd(e *End) string {
	first := e.closerClose()
	reason := e.Reason
	if first != nil && first.Code == e.Code && reason == "" {
		// An answer usually echoes the code alone: the reason is the
		// closer's.
		reason = first.Reason
	}
	b := strconv.AppendUint(nil, uint64(e.Code), 10)
	b = append(b, ' ')
	b = append(b, e.Code.Name()...)
	if reason != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, reason)
	}
	if first != nil && first.Code != e.Code {
		// The code came from the other side, or no close came back.
		if e.Code != CloseAbnormal {
			b = append(b, " by "...)
			b = append(b, otherSide(e.Closer)...)
		}
		b = append(b, ", after the "...)
		b = append(b, e.Closer...)
		b = append(b, "'s "...)
		b = append(b, first.Code.String()...)
	} else if e.Closer != "" {
		b = append(b, " by "...)
		b = append(b, e.Closer...)
	}
	if e.Clean {
		b = append(b, ", clean"...)
	} else {
		b = append(b, ", not clean"...)
	}
	if e.Err != "" {
		b = append(b, ": "...)
		b = append(b, e.Err...)
	}
	if e.Violations > 0 {
		b = append(b, "; "...)
		b = strconv.AppendInt(b, int64(e.Violations), 10)
		b = append(b, " violation"...)
		if e.Violations > 1 {
			b = append(b, "s, first"...)
		}
		if v := e.FirstViolation; v != nil {
			b = append(b, ": "...)
			b = append(b, v.Rule...)
			b = append(b, " ("...)
			b = append(b, v.Section...)
			b = append(b, ") by the "...)
			b = append(b, sideName(v.Dir)...)
			b = append(b, " in frame "...)
			b = strconv.AppendUint(b, v.Seq, 10)
		}
	}
	return string(b)
}

// closerClose is the close frame that started the handshake, nil when
// none was sent or its sender is not a side of the connection.
func (e *End) closerClose() *Close {
	switch e.Closer {
	case "client":
		return e.ClientClose
	case "server":
		return e.ServerClose
	}
	return nil
}

func otherSide(s string) string {
	if s == "client" {
		return "server"
	}
	return "client"
}

func previewLen(o LineOptions) int {
	if o.Preview > 0 {
		return o.Preview
	}
	return 60
}

func flag(on bool, c byte) byte {
	if on {
		return c
	}
	return '-'
}

func appendPadded(b []byte, s string, w int) []byte {
	b = append(b, s...)
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return b
}

func appendTime(b []byte, t time.Duration) []byte {
	n := len(b)
	b = strconv.AppendFloat(b, t.Seconds(), 'f', 6, 64)
	// Right-align to 11 columns so lines stay tabular for 10^4 seconds.
	if w := len(b) - n; w < 11 {
		pad := 11 - w
		b = append(b, make([]byte, pad)...)
		copy(b[n+pad:], b[n:n+w])
		for i := n; i < n+pad; i++ {
			b[i] = ' '
		}
	}
	return b
}

package replay

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wscope/wscope/inspect"
)

// Script is one recorded connection, ready to replay from either side.
type Script struct {
	// Conn is the connection id in the recording.
	Conn int
	// URL is the recorded URL (for a recording made by listen, the
	// listening address and the request target).
	URL string
	// Role is the part wscope played when it recorded.
	Role inspect.Role
	// Headers are the recorded handshake request headers, in order.
	Headers []inspect.HeaderField
	// Subprotocol is the subprotocol the server selected, or "".
	Subprotocol string
	// Extensions are the negotiated extensions (not replayed: wire does
	// not negotiate any yet).
	Extensions []inspect.Extension
	// Start is the time of the open event.
	Start time.Duration
	// Items are the data messages, pings and pongs in recorded order.
	Items []*Message
	// End is how the connection ended.
	End Ending
}

// Message is one recorded message: a data message, or a ping or a pong.
type Message struct {
	// Index counts from 1 among the data messages of the same direction,
	// or among the pings (or the pongs) of its direction.
	Index   int
	Dir     inspect.Direction
	Op      inspect.OpCode
	Payload []byte
	// T is the recorded time of the message (of its last frame).
	T        time.Duration
	Deflated bool
	// Frames is the frame layout of a data message, nil when the
	// recording has no frame events for it (an imported HAR, say).
	Frames []FrameInfo
}

// FrameInfo is the layout of one data frame: what --strict-frames
// compares.
type FrameInfo struct {
	Fin bool
	Rsv uint8
	Op  inspect.OpCode
	Len uint64
}

func (f FrameInfo) String() string {
	return fmt.Sprintf("%s fin=%t rsv=%03b len=%d", f.Op, f.Fin, f.Rsv, f.Len)
}

// Ending is how the recorded connection ended.
type Ending struct {
	// Known is false when the recording stops without an end event or a
	// close frame: the end is then not asserted.
	Known bool
	// Closer is who sent the first close frame, "client" or "server", or
	// "" when neither did.
	Closer string
	// Code and Reason are those of the first close frame; Code is 1005
	// for a close frame without a code, 1006 when there was none.
	Code   inspect.CloseCode
	Reason string
	// Answered reports that the other side's close frame was recorded,
	// with AnswerCode.
	Answered   bool
	AnswerCode inspect.CloseCode
	// T is the time of the first close frame, or of the end.
	T time.Duration
	// Dropper is, when no close frame was sent, who dropped the TCP
	// connection: "client", "server" or "" when the recording cannot tell.
	Dropper string
}

// NewScript builds the script of connection conn (0: the first connection
// found) from its events, in recorded order. It checks every #regex
// marker.
func NewScript(events []*inspect.Event, conn int) (*Script, error) {
	if conn == 0 {
		for _, e := range events {
			if e != nil && e.Conn > 0 {
				conn = e.Conn
				break
			}
		}
	}
	s := &Script{Conn: conn, End: Ending{Code: inspect.CloseAbnormal}}
	frames := map[uint64]FrameInfo{}
	var dataN [3]int    // by direction
	var ctlN [16][3]int // by opcode and direction
	var end *inspect.End
	var endT time.Duration
	found, opened := false, false
	for _, e := range events {
		if e == nil || e.Conn != conn {
			continue
		}
		found = true
		switch e.Kind {
		case inspect.KindOpen:
			if e.Open == nil || opened {
				continue
			}
			opened = true
			o := e.Open
			s.URL, s.Role, s.Subprotocol, s.Start = o.URL, o.Role, o.Subprotocol, e.T
			s.Headers = slices.Clone(o.Request.Headers)
			s.Extensions = slices.Clone(o.Extensions)
		case inspect.KindFrame:
			f := e.Frame
			if f == nil || f.Dir != inspect.ClientToServer && f.Dir != inspect.ServerToClient {
				continue
			}
			switch f.Op {
			case inspect.OpText, inspect.OpBinary, inspect.OpContinuation:
				frames[f.Seq] = FrameInfo{Fin: f.Fin, Rsv: f.Rsv, Op: f.Op, Len: f.Length}
			case inspect.OpPing, inspect.OpPong:
				ctlN[f.Op][f.Dir]++
				s.Items = append(s.Items, &Message{Index: ctlN[f.Op][f.Dir], Dir: f.Dir, Op: f.Op, Payload: slices.Clone(f.Payload), T: e.T})
			case inspect.OpClose:
				s.addClose(f, e.T)
			}
		case inspect.KindMsg:
			m := e.Msg
			if m == nil || m.Dir != inspect.ClientToServer && m.Dir != inspect.ServerToClient {
				continue
			}
			dataN[m.Dir]++
			msg := &Message{Index: dataN[m.Dir], Dir: m.Dir, Op: m.Op, Payload: slices.Clone(m.Payload), T: e.T, Deflated: m.Deflated}
			if len(m.Frames) > 0 {
				msg.Frames = make([]FrameInfo, 0, len(m.Frames))
				for _, seq := range m.Frames {
					fi, ok := frames[seq]
					if !ok {
						msg.Frames = nil
						break
					}
					msg.Frames = append(msg.Frames, fi)
					delete(frames, seq)
				}
			}
			if msg.Payload == nil {
				msg.Payload = []byte{}
			}
			s.Items = append(s.Items, msg)
		case inspect.KindEnd:
			if e.End != nil && end == nil {
				c := *e.End
				end, endT = &c, e.T
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("the recording has no events for connection %d", conn)
	}
	if end != nil {
		s.End.Known = true
		if end.Closer != "" {
			s.End.Closer, s.End.Code, s.End.Reason = end.Closer, end.Code, end.Reason
		}
		if s.End.T == 0 {
			s.End.T = endT
		}
		if s.End.Closer == "" {
			s.End.Dropper = dropper(s.Role, end.TCP)
		}
	}
	var errs []error
	for _, m := range s.Items {
		if err := checkMarkers(m.Op, m.Payload); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.describe(), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Script) addClose(f *inspect.Frame, t time.Duration) {
	code, reason := inspect.CloseNoStatus, ""
	if f.Close != nil {
		code, reason = f.Close.Code, f.Close.Reason
	}
	name := peerName(f.Dir)
	switch {
	case s.End.Closer == "":
		s.End.Known = true
		s.End.Closer, s.End.Code, s.End.Reason, s.End.T = name, code, reason, t
	case s.End.Closer != name && !s.End.Answered:
		s.End.Answered, s.End.AnswerCode = true, code
	}
}

// dropper names who dropped TCP without a close handshake: wscope itself
// when it closed locally or timed out, its peer when a FIN or a reset
// came.
func dropper(role inspect.Role, tcp string) string {
	var self, peer string
	switch role {
	case inspect.RoleClient:
		self, peer = "client", "server"
	case inspect.RoleServer:
		self, peer = "server", "client"
	default:
		return ""
	}
	switch tcp {
	case "local", "timeout":
		return self
	case "fin", "reset":
		return peer
	}
	return ""
}

func peerName(d inspect.Direction) string {
	if d == inspect.ClientToServer {
		return "client"
	}
	return "server"
}

// Messages returns the data messages sent in direction dir, in order.
func (s *Script) Messages(dir inspect.Direction) []*Message {
	var out []*Message
	for _, m := range s.Items {
		if m.Dir == dir && !m.Op.IsControl() {
			out = append(out, m)
		}
	}
	return out
}

// describe names a message the way reports do: "server message 3 (t=1.250s)".
func (m *Message) describe() string {
	return fmt.Sprintf("%s (t=%s)", m.name(), secs(m.T))
}

// name is "server message 3", "client ping 1", "server pong 2".
func (m *Message) name() string {
	kind := "message"
	if m.Op.IsControl() {
		kind = m.Op.String()
	}
	return fmt.Sprintf("%s %s %d", peerName(m.Dir), kind, m.Index)
}

// secs formats a duration as seconds with milliseconds: "1.250s".
func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

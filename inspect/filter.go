package inspect

import (
	"regexp"
	"strings"
)

// Filter selects events: the --from, --op, --grep and --conn flags of
// every command that shows events.
type Filter struct {
	// From keeps what one side sent (0: both).
	From Direction
	// Ops keeps these opcodes, as a bit set over OpCode (0: all).
	Ops uint16
	// Grep keeps frames and messages whose decoded payload matches, and
	// messages whose application protocol units (Message.Decoded) do.
	Grep *regexp.Regexp
	// Conn keeps one connection (0: all).
	Conn int
}

// ParseOps reads a --op list: opcode names (text, binary, close, ping,
// pong, cont, 0x3...) and the classes "data" and "control".
func ParseOps(list string) (uint16, error) {
	var set uint16
	for _, name := range strings.Split(list, ",") {
		switch name = strings.TrimSpace(strings.ToLower(name)); name {
		case "":
		case "data":
			set |= 1<<OpText | 1<<OpBinary | 1<<OpContinuation
		case "control":
			set |= 1<<OpClose | 1<<OpPing | 1<<OpPong
		default:
			op, err := ParseOpCode(name)
			if err != nil {
				return 0, err
			}
			set |= 1 << op
		}
	}
	return set, nil
}

// Active reports whether the filter selects on frames or messages, in
// which case other events (open, end) are left out.
func (f *Filter) Active() bool { return f.From != 0 || f.Ops != 0 || f.Grep != nil }

// Match reports whether e passes the filter.
func (f *Filter) Match(e *Event) bool {
	if f.Conn != 0 && e.Conn != f.Conn {
		return false
	}
	if !f.Active() {
		return true
	}
	var (
		dir     Direction
		op      OpCode
		payload []byte
	)
	switch e.Kind {
	case KindFrame:
		dir, op, payload = e.Frame.Dir, e.Frame.Op, e.Frame.Payload
		if e.Frame.Rsv1() {
			payload = nil // compressed: grep the message instead
		}
	case KindMsg:
		dir, op, payload = e.Msg.Dir, e.Msg.Op, e.Msg.Payload
	default:
		return false
	}
	if f.From != 0 && dir != f.From {
		return false
	}
	if f.Ops != 0 && f.Ops&(1<<op) == 0 {
		return false
	}
	if f.Grep != nil && !f.Grep.Match(payload) && !f.matchDecoded(e) {
		return false
	}
	return true
}

// matchDecoded reports whether --grep matches what a decoder read in a
// message: a unit's summary or one of its field values.
func (f *Filter) matchDecoded(e *Event) bool {
	if e.Kind != KindMsg {
		return false
	}
	for i := range e.Msg.Decoded {
		d := &e.Msg.Decoded[i]
		if f.Grep.MatchString(d.Summary) {
			return true
		}
		for _, fl := range d.Fields {
			if f.Grep.MatchString(fl.Value) {
				return true
			}
		}
	}
	return false
}

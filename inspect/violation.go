package inspect

import (
	"fmt"
	"unicode/utf8"
)

// Rule names one thing RFC 6455 (or RFC 7692) forbids. Its spelling is the
// one recordings and --check use.
type Rule string

// The rules wscope checks. Each is checked in exactly one place below or in
// the Assembler, named after what it checks.
const (
	RuleRsvWithoutExtension  Rule = "rsv-without-extension"
	RuleReservedOpcode       Rule = "reserved-opcode"
	RuleControlTooLong       Rule = "control-too-long"
	RuleControlFragmented    Rule = "control-fragmented"
	RuleOrphanContinuation   Rule = "continuation-without-message"
	RuleDataInsideFragmented Rule = "data-inside-fragmented-message"
	RuleClientUnmasked       Rule = "client-frame-unmasked"
	RuleServerMasked         Rule = "server-frame-masked"
	RuleLengthNotMinimal     Rule = "length-not-minimal"
	RuleLengthTopBit         Rule = "length-top-bit-set"
	RuleTextInvalidUTF8      Rule = "text-invalid-utf8"
	RuleCloseOneByte         Rule = "close-payload-one-byte"
	RuleCloseCodeInvalid     Rule = "close-code-invalid"
	RuleCloseReasonUTF8      Rule = "close-reason-invalid-utf8"
)

// ruleSections maps each rule to the section that states it.
var ruleSections = map[Rule]string{
	RuleRsvWithoutExtension:  "RFC 6455 5.2",
	RuleReservedOpcode:       "RFC 6455 5.2",
	RuleControlTooLong:       "RFC 6455 5.5",
	RuleControlFragmented:    "RFC 6455 5.5",
	RuleOrphanContinuation:   "RFC 6455 5.4",
	RuleDataInsideFragmented: "RFC 6455 5.4",
	RuleClientUnmasked:       "RFC 6455 5.1",
	RuleServerMasked:         "RFC 6455 5.1",
	RuleLengthNotMinimal:     "RFC 6455 5.2",
	RuleLengthTopBit:         "RFC 6455 5.2",
	RuleTextInvalidUTF8:      "RFC 6455 8.1",
	RuleCloseOneByte:         "RFC 6455 5.5.1",
	RuleCloseCodeInvalid:     "RFC 6455 7.4.1",
	RuleCloseReasonUTF8:      "RFC 6455 5.5.1",
}

// Section returns where the rule is written, e.g. "RFC 6455 5.2".
func (r Rule) Section() string { return ruleSections[r] }

// FailCode is the close code an endpoint fails the connection with when
// its peer breaks r: 1007 for text that is not UTF-8 (section 8.1), 1002
// for the rest (section 7.4.1).
func (r Rule) FailCode() CloseCode {
	if r == RuleTextInvalidUTF8 || r == RuleCloseReasonUTF8 {
		return CloseInvalidPayload
	}
	return CloseProtocolError
}

// Rules returns every rule wscope checks.
func Rules() []Rule {
	return []Rule{
		RuleRsvWithoutExtension, RuleReservedOpcode, RuleControlTooLong,
		RuleControlFragmented, RuleOrphanContinuation, RuleDataInsideFragmented,
		RuleClientUnmasked, RuleServerMasked, RuleLengthNotMinimal,
		RuleLengthTopBit, RuleTextInvalidUTF8, RuleCloseOneByte,
		RuleCloseCodeInvalid, RuleCloseReasonUTF8,
	}
}

// Violation is one broken rule, found on a frame or a message.
type Violation struct {
	Rule    Rule
	Section string
	Message string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s", v.Rule, v.Section, v.Message)
}

func violation(r Rule, format string, args ...any) Violation {
	return Violation{Rule: r, Section: r.Section(), Message: fmt.Sprintf(format, args...)}
}

// checkReservedOpcode: opcodes 3-7 and B-F are reserved (section 5.2).
func checkReservedOpcode(f *Frame) {
	if f.Op.IsReserved() {
		f.Violations = append(f.Violations, violation(RuleReservedOpcode, "opcode %s is reserved", f.Op))
	}
}

// checkControl: control frames carry at most 125 bytes and are never
// fragmented (section 5.5).
func checkControl(f *Frame) {
	if !f.Op.IsControl() {
		return
	}
	if f.Length > 125 {
		f.Violations = append(f.Violations, violation(RuleControlTooLong, "%s frame has %d bytes of payload, more than 125", f.Op, f.Length))
	}
	if !f.Fin {
		f.Violations = append(f.Violations, violation(RuleControlFragmented, "%s frame has FIN clear", f.Op))
	}
}

// checkMasking: a client masks every frame, a server none (section 5.1).
func checkMasking(f *Frame) {
	switch {
	case f.Dir == ClientToServer && !f.Masked:
		f.Violations = append(f.Violations, violation(RuleClientUnmasked, "client frame is not masked"))
	case f.Dir == ServerToClient && f.Masked:
		f.Violations = append(f.Violations, violation(RuleServerMasked, "server frame is masked"))
	}
}

// checkLength: the length uses the shortest form and a 64-bit length has
// its top bit clear (section 5.2).
func checkLength(f *Frame) {
	if f.LenEnc == Len64 && f.Length>>63 != 0 {
		f.Violations = append(f.Violations, violation(RuleLengthTopBit, "64-bit length 0x%016x has its most significant bit set", f.Length))
		return
	}
	// A zero LenEnc was never on the wire: the frame was built, not read.
	if want := MinimalLengthEncoding(f.Length); f.LenEnc != 0 && f.LenEnc != want {
		f.Violations = append(f.Violations, violation(RuleLengthNotMinimal, "length %d sent in the %s-bit form, minimal is %s-bit", f.Length, f.LenEnc, want))
	}
}

// checkRsv: RSV bits are 0 unless a negotiated extension defines them
// (section 5.2). permessage-deflate defines RSV1, on the first frame of a
// data message only (RFC 7692 section 6).
func checkRsv(f *Frame, deflate, first bool) {
	if f.Rsv == 0 {
		return
	}
	allowed := uint8(0)
	if deflate && first && f.Op.IsData() {
		allowed = Rsv1
	}
	if bad := f.Rsv &^ allowed; bad != 0 {
		what := "no extension was negotiated"
		if deflate {
			what = "permessage-deflate allows RSV1 on the first frame of a data message only"
		}
		f.Violations = append(f.Violations, violation(RuleRsvWithoutExtension, "%s set: %s", rsvNames(bad), what))
	}
}

func rsvNames(bits uint8) string {
	s := ""
	for i, b := range []uint8{Rsv1, Rsv2, Rsv3} {
		if bits&b != 0 {
			if s != "" {
				s += "+"
			}
			s += fmt.Sprintf("RSV%d", i+1)
		}
	}
	return s
}

// checkClose: a close body is empty or starts with a code that may be sent
// on the wire, followed by a UTF-8 reason (sections 5.5.1 and 7.4). It also
// fills f.Close.
func checkClose(f *Frame) {
	f.Close = nil
	if f.Op != OpClose || len(f.Payload) == 0 {
		return
	}
	c, ok := ParseClose(f.Payload)
	if !ok {
		f.Violations = append(f.Violations, violation(RuleCloseOneByte, "close payload is 1 byte: a status code needs 2"))
		return
	}
	f.Close = &c
	if !c.Code.ValidOnWire() {
		f.Violations = append(f.Violations, violation(RuleCloseCodeInvalid, "close code %d (%s) must not be sent on the wire", c.Code, c.Code.Name()))
	}
	if !utf8.ValidString(c.Reason) {
		f.Violations = append(f.Violations, violation(RuleCloseReasonUTF8, "close reason is not valid UTF-8"))
	}
}

// invalidText is the violation of a text message that is not UTF-8 once
// reassembled and decompressed (section 8.1).
func invalidText(why string) Violation { return violation(RuleTextInvalidUTF8, "%s", why) }

// markInvalidText reports m as invalid text, on m and, unless an earlier
// fragment already says so, on its final frame: every view of frames shows
// it, and the frame is where an endpoint learnt it.
func markInvalidText(m *Message, last *Frame, onFrame bool) {
	v := invalidText("text message is not valid UTF-8")
	m.Violations = append(m.Violations, v)
	if onFrame {
		last.Violations = append(last.Violations, v)
	}
}

// Findings picks each violation out of a stream of events once. Invalid
// text is found on a message and also put on the frame where it showed:
// it is reported there, and on the message only when no frame of it
// carried it (a HAR has no frames; older recordings had it on the message
// alone). The zero value is ready to use.
type Findings struct {
	onFrame map[findingKey]bool // the open message's invalid text is on a frame
}

type findingKey struct {
	conn int
	dir  Direction
}

// Of returns the violations e adds, valid until the next call.
func (fs *Findings) Of(e *Event) []Violation {
	switch e.Kind {
	case KindFrame:
		f := e.Frame
		for _, v := range f.Violations {
			if v.Rule == RuleTextInvalidUTF8 {
				if fs.onFrame == nil {
					fs.onFrame = map[findingKey]bool{}
				}
				fs.onFrame[findingKey{e.Conn, f.Dir}] = true
			}
		}
		return f.Violations
	case KindMsg:
		m := e.Msg
		k := findingKey{e.Conn, m.Dir}
		if !fs.onFrame[k] || len(m.Violations) == 0 {
			return m.Violations
		}
		delete(fs.onFrame, k)
		var out []Violation
		for _, v := range m.Violations {
			if v.Rule != RuleTextInvalidUTF8 {
				out = append(out, v)
			}
		}
		return out
	}
	return nil
}

package inspect

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind says what an Event is.
type Kind uint8

// Event kinds, spelled in recordings as their String.
const (
	KindOpen Kind = iota + 1
	KindFrame
	KindMsg
	KindEnd
	KindError
	KindGap
	KindMark
	KindNote
)

var kindNames = [...]string{"", "open", "frame", "msg", "end", "error", "gap", "mark", "note"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is the one thing everything in wscope passes around: the wire
// produces events, the recorder writes them, inspect reads them back, the
// views draw them and replay compares them. Exactly one of the pointer
// fields is set, matching Kind (none for error, mark and note, which use
// Text).
type Event struct {
	T     time.Duration // since the session started (monotonic)
	Kind  Kind
	Conn  int // connection id, from 1
	Open  *Open
	Frame *Frame
	Msg   *Message
	End   *End
	Text  string // error, mark and note
}

// Role is the part wscope played in a connection.
type Role string

// The roles a connection can be seen from.
const (
	RoleClient Role = "client"
	RoleServer Role = "server"
	RoleProxy  Role = "proxy"
)

// HeaderField is one HTTP header line. Headers are kept as ordered pairs so
// duplicates and order survive.
type HeaderField struct {
	Name, Value string
}

// Request is the handshake request line and headers.
type Request struct {
	Method, Target, Proto string
	Headers               []HeaderField
}

// Response is the handshake response status line and headers.
type Response struct {
	Proto   string
	Status  int
	Reason  string
	Headers []HeaderField
}

// Extension is one negotiated extension with its parameters, in order.
// A parameter without a value has Value "".
type Extension struct {
	Name   string
	Params []HeaderField
}

// TLSInfo describes the TLS session under a wss connection.
type TLSInfo struct {
	Version, Cipher, SNI, PeerSubject string
	// ClientSubject, ClientIssuer and ClientSHA256 (the fingerprint of
	// its DER bytes, hex pairs joined by colons) identify the certificate
	// a client presented to wscope's server side (listen, proxy);
	// ClientSHA256 is "" when it presented none. In a proxy's open event
	// the other fields describe the upstream's leg, and are empty when
	// the upstream is ws://.
	ClientSubject, ClientIssuer, ClientSHA256 string
}

// Describe returns the TLS session in one line, as the handshake output
// and the TUI show it.
func (t *TLSInfo) Describe() string {
	var parts []string
	if t.Version != "" {
		parts = append(parts, fmt.Sprintf("%s %s, server name %q, peer %s", t.Version, t.Cipher, t.SNI, t.PeerSubject))
	}
	if t.ClientSHA256 != "" {
		parts = append(parts, fmt.Sprintf("client certificate %s (issuer %s, SHA-256 %s)", t.ClientSubject, t.ClientIssuer, t.ClientSHA256))
	}
	return strings.Join(parts, "; ")
}

// Open describes an established connection: the handshake both ways and
// what it negotiated.
type Open struct {
	URL         string
	Role        Role
	Request     Request
	Response    Response
	Subprotocol string
	Extensions  []Extension
	Local       string
	Remote      string
	TLS         *TLSInfo
	Start       time.Time // wall clock, to rebuild HAR times
	// Decoder is the application protocol decoder chosen for the
	// connection ("socketio", "mqtt"; "" for none) and DecoderWhy the rule
	// that chose it, or why there is none.
	Decoder, DecoderWhy string
}

// End describes how a connection ended: the verdict of its Tracker.
type End struct {
	// Clean is true when the close handshake completed: a close frame
	// crossed each way (RFC 6455 section 7.1.4), whatever its code.
	Clean bool
	// Code is the connection's close code (section 7.1.5): the code of the
	// first close frame the tracked endpoint received (for a proxy or a
	// capture, the one the client received); 1005 when that frame had no
	// code, 1006 when no close frame arrived.
	Code   CloseCode
	Reason string
	// Closer is who sent the first close frame: "client", "server",
	// "proxy", or "" when none was sent.
	Closer string
	// ClientClose and ServerClose are the first close frame each side
	// sent (code 1005 for one without a code); nil when it sent none.
	ClientClose, ServerClose *Close
	// TCP says how the transport ended: "fin", "reset", "timeout",
	// "local" (we closed it), or "" when unknown.
	TCP string
	// Err says what went wrong, if anything: why wscope failed the
	// connection, or how the transport ended before the close handshake
	// completed.
	Err string
	// Violations counts the RFC 6455 violations the peer committed (both
	// sides', for a proxy or a capture); FirstViolation is the first.
	Violations     int
	FirstViolation *ViolationAt
}

// ViolationAt is a violation and the frame it was found on.
type ViolationAt struct {
	Violation
	Dir Direction
	Seq uint64
}

// Exit statuses that say how a session ended (the README's table).
const (
	ExitClean    = 0
	ExitAbnormal = 4
)

// ExitStatus maps how a connection ended to the session's exit status:
// ExitClean when the close handshake completed with 1000, 1001 or no code
// (1005) and the peer broke no rule of RFC 6455, ExitAbnormal otherwise.
func (e *End) ExitStatus() int {
	if e.Clean && e.Violations == 0 && e.Code.Normal() {
		return ExitClean
	}
	return ExitAbnormal
}

// Clone returns a deep copy of o that shares no memory with it.
func (o *Open) Clone() *Open {
	if o == nil {
		return nil
	}
	c := *o
	c.Request.Headers = slices.Clone(o.Request.Headers)
	c.Response.Headers = slices.Clone(o.Response.Headers)
	if o.Extensions != nil {
		c.Extensions = make([]Extension, len(o.Extensions))
		for i, x := range o.Extensions {
			c.Extensions[i] = Extension{Name: x.Name, Params: slices.Clone(x.Params)}
		}
	}
	if o.TLS != nil {
		t := *o.TLS
		c.TLS = &t
	}
	return &c
}

// RecordingHeader is the first line of a recording
// (docs/recording-format.md); internal/record writes and reads it.
type RecordingHeader struct {
	Created  time.Time
	Tool     string
	Version  string
	Source   string // live, har, pcap
	Lossy    bool
	Redacted []string // header names whose values were replaced
}

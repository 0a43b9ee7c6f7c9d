package inspect

import "strconv"

// CloseCode is a close status code (RFC 6455 section 7.4).
type CloseCode uint16

// Close codes named by RFC 6455 section 7.4.1 and the IANA registry.
const (
	CloseNormal             CloseCode = 1000
	CloseGoingAway          CloseCode = 1001
	CloseProtocolError      CloseCode = 1002
	CloseUnsupportedData    CloseCode = 1003
	CloseNoStatus           CloseCode = 1005
	CloseAbnormal           CloseCode = 1006
	CloseInvalidPayload     CloseCode = 1007
	ClosePolicyViolation    CloseCode = 1008
	CloseMessageTooBig      CloseCode = 1009
	CloseMandatoryExtension CloseCode = 1010
	CloseInternalError      CloseCode = 1011
	CloseServiceRestart     CloseCode = 1012
	CloseTryAgainLater      CloseCode = 1013
	CloseBadGateway         CloseCode = 1014
	CloseTLSHandshake       CloseCode = 1015
)

var closeNames = [...]string{
	"Normal Closure",
	"Going Away",
	"Protocol Error",
	"Unsupported Data",
	"Reserved",
	"No Status Received",
	"Abnormal Closure",
	"Invalid Frame Payload Data",
	"Policy Violation",
	"Message Too Big",
	"Mandatory Extension",
	"Internal Error",
	"Service Restart",
	"Try Again Later",
	"Bad Gateway",
	"TLS Handshake",
}

// Name returns the registered name of c, or the name of its range:
// "Registered" (3000-3999, IANA), "Private Use" (4000-4999), "Reserved"
// (1016-2999), "Invalid" (below 1000 or above 4999).
func (c CloseCode) Name() string {
	switch {
	case c >= 1000 && c <= 1015:
		return closeNames[c-1000]
	case c >= 3000 && c <= 3999:
		return "Registered"
	case c >= 4000 && c <= 4999:
		return "Private Use"
	case c >= 1016 && c <= 2999:
		return "Reserved"
	}
	return "Invalid"
}

// String returns the code and its name, e.g. "1000 Normal Closure".
func (c CloseCode) String() string {
	return strconv.Itoa(int(c)) + " " + c.Name()
}

// ValidOnWire reports whether an endpoint may send c in a close frame
// (RFC 6455 section 7.4.1 and 7.4.2, with the IANA registrations 1012-1014,
// which gobwas/ws wrongly rejects).
func (c CloseCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014, c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// Normal reports whether c, received at the end of a completed close
// handshake, ends a session normally: 1000, 1001, or no code at all (1005).
func (c CloseCode) Normal() bool {
	return c == CloseNormal || c == CloseGoingAway || c == CloseNoStatus
}

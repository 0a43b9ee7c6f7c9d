package inspect

import (
	"bytes"
	"strconv"
	"testing"
)

func TestCloseCodeName(t *testing.T) {
	for _, tt := range []struct {
		code CloseCode
		want string
	}{
		{1000, "Normal Closure"},
		{1001, "Going Away"},
		{1002, "Protocol Error"},
		{1003, "Unsupported Data"},
		{1004, "Reserved"},
		{1005, "No Status Received"},
		{1006, "Abnormal Closure"},
		{1007, "Invalid Frame Payload Data"},
		{1008, "Policy Violation"},
		{1009, "Message Too Big"},
		{1010, "Mandatory Extension"},
		{1011, "Internal Error"},
		{1012, "Service Restart"},
		{1013, "Try Again Later"},
		{1014, "Bad Gateway"},
		{1015, "TLS Handshake"},
		{1016, "Reserved"},
		{2999, "Reserved"},
		{3000, "Registered"},
		{3999, "Registered"},
		{4000, "Private Use"},
		{4999, "Private Use"},
		{0, "Invalid"},
		{999, "Invalid"},
		{5000, "Invalid"},
		{65535, "Invalid"},
	} {
		if got := tt.code.Name(); got != tt.want {
			t.Errorf("CloseCode(%d).Name() = %q, want %q", tt.code, got, tt.want)
		}
		if got, want := tt.code.String(), strconv.Itoa(int(tt.code))+" "+tt.want; got != want {
			t.Errorf("CloseCode(%d).String() = %q, want %q", tt.code, got, want)
		}
	}
}

func TestCloseCodeConstants(t *testing.T) {
	for code, want := range map[CloseCode]CloseCode{
		CloseNormal: 1000, CloseGoingAway: 1001, CloseProtocolError: 1002,
		CloseUnsupportedData: 1003, CloseNoStatus: 1005, CloseAbnormal: 1006,
		CloseInvalidPayload: 1007, ClosePolicyViolation: 1008, CloseMessageTooBig: 1009,
		CloseMandatoryExtension: 1010, CloseInternalError: 1011, CloseServiceRestart: 1012,
		CloseTryAgainLater: 1013, CloseBadGateway: 1014, CloseTLSHandshake: 1015,
	} {
		if code != want {
			t.Errorf("constant %d, want %d", code, want)
		}
	}
}

// TestCloseCodeValidOnWire walks every code: 1000-1003, 1007-1014 and
// 3000-4999 may be sent; 1004 (reserved), 1005, 1006 and 1015 (never on
// the wire), 1016-2999 (unassigned) and the rest may not.
func TestCloseCodeValidOnWire(t *testing.T) {
	valid := func(c int) bool {
		return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
	}
	for c := 0; c <= 0xFFFF; c++ {
		if got := CloseCode(c).ValidOnWire(); got != valid(c) {
			t.Errorf("CloseCode(%d).ValidOnWire() = %v", c, got)
		}
	}
	// The edges, spelled out.
	for _, c := range []CloseCode{1000, 1001, 1002, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		if !c.ValidOnWire() {
			t.Errorf("%d must be valid on the wire", c)
		}
	}
	for _, c := range []CloseCode{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		if c.ValidOnWire() {
			t.Errorf("%d must not be valid on the wire", c)
		}
	}
}

func TestCloseCodeNormal(t *testing.T) {
	for c := CloseCode(0); c < 5000; c++ {
		if got := c.Normal(); got != (c == 1000 || c == 1001 || c == 1005) {
			t.Errorf("CloseCode(%d).Normal() = %v", c, got)
		}
	}
}

func TestParseClose(t *testing.T) {
	for _, tt := range []struct {
		in   []byte
		want Close
		ok   bool
	}{
		{nil, Close{}, false},
		{[]byte{0x03}, Close{}, false},
		{[]byte{0x03, 0xe8}, Close{Code: 1000}, true},
		{[]byte{0x03, 0xe9, 'b', 'y', 'e'}, Close{Code: 1001, Reason: "bye"}, true},
		{[]byte{0xff, 0xff, 0xff}, Close{Code: 65535, Reason: "\xff"}, true},
	} {
		got, ok := ParseClose(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseClose(% x) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok {
			if b := AppendClose(nil, got.Code, got.Reason); !bytes.Equal(b, tt.in) {
				t.Errorf("AppendClose round trip: % x, want % x", b, tt.in)
			}
		}
	}
}

package mqtt

import (
	"strconv"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

// The kinds of property value (5.0 section 2.2.2.2).
const (
	kByte = iota
	kU16
	kU32
	kVarint
	kString
	kBinary
	kPair
)

type property struct {
	name string
	kind int
}

// properties by identifier (5.0 section 2.2.2.2, table of properties).
var properties = map[int]property{
	0x01: {"payloadFormatIndicator", kByte},
	0x02: {"messageExpiryInterval", kU32},
	0x03: {"contentType", kString},
	0x08: {"responseTopic", kString},
	0x09: {"correlationData", kBinary},
	0x0B: {"subscriptionIdentifier", kVarint},
	0x11: {"sessionExpiryInterval", kU32},
	0x12: {"assignedClientIdentifier", kString},
	0x13: {"serverKeepAlive", kU16},
	0x15: {"authenticationMethod", kString},
	0x16: {"authenticationData", kBinary},
	0x17: {"requestProblemInformation", kByte},
	0x18: {"willDelayInterval", kU32},
	0x19: {"requestResponseInformation", kByte},
	0x1A: {"responseInformation", kString},
	0x1C: {"serverReference", kString},
	0x1F: {"reasonString", kString},
	0x21: {"receiveMaximum", kU16},
	0x22: {"topicAliasMaximum", kU16},
	0x23: {"topicAlias", kU16},
	0x24: {"maximumQoS", kByte},
	0x25: {"retainAvailable", kByte},
	0x26: {"userProperty", kPair},
	0x27: {"maximumPacketSize", kU32},
	0x28: {"wildcardSubscriptionAvailable", kByte},
	0x29: {"subscriptionIdentifierAvailable", kByte},
	0x2A: {"sharedSubscriptionAvailable", kByte},
}

// props reads a v5 property list (section 2.2.2) into u's fields, and
// returns the summary words for the ones worth a glance. In 3.1.1 there
// is none.
func (d *Decoder) props(r *reader, u *inspect.Decoded) []string {
	if !d.v5() || r.err != nil {
		return nil
	}
	n := r.varint("property length")
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail("properties")
		return nil
	}
	pr := &reader{b: r.b[:n]}
	r.b = r.b[n:]
	var words []string
	seen := map[string]int{}
	for pr.err == nil && len(pr.b) > 0 {
		id := pr.varint("property identifier")
		p, ok := properties[id]
		if !ok {
			pr.err = errBadProperty(id)
			break
		}
		var v string
		switch p.kind {
		case kByte:
			v = strconv.Itoa(int(pr.byte1(p.name)))
		case kU16:
			v = strconv.Itoa(int(pr.u16(p.name)))
		case kU32:
			v = strconv.FormatUint(uint64(pr.u32(p.name)), 10)
		case kVarint:
			v = strconv.Itoa(pr.varint(p.name))
		case kString:
			v = pr.str(p.name)
		case kBinary:
			v = "(" + appproto.Size(len(pr.bin(p.name))) + ")"
		case kPair:
			k := pr.str(p.name + " name")
			v = k + "=" + pr.str(p.name+" value")
		}
		if pr.err != nil {
			break
		}
		key := p.name
		if seen[key]++; seen[key] > 1 {
			key += strconv.Itoa(seen[key])
		}
		u.Fields = append(u.Fields, appproto.Str(key, v))
		switch p.name {
		case "reasonString", "topicAlias", "userProperty", "contentType", "responseTopic", "sessionExpiryInterval", "assignedClientIdentifier":
			words = append(words, p.name+"="+appproto.Preview(v))
		}
	}
	if pr.err != nil && r.err == nil {
		r.err = pr.err
	}
	return words
}

type errBadProperty int

func (e errBadProperty) Error() string {
	return "unknown property identifier 0x" + strconv.FormatInt(int64(e), 16) + " (5.0 section 2.2.2.2)"
}

// reasonName names a v5 reason code (5.0 section 2.4).
func reasonName(rc byte) string {
	if n, ok := reasons[rc]; ok {
		return n
	}
	return "reason=0x" + strconv.FormatInt(int64(rc), 16)
}

var reasons = map[byte]string{
	0x00: "success", 0x01: "granted-qos-1", 0x02: "granted-qos-2", 0x04: "disconnect-with-will",
	0x10: "no-matching-subscribers", 0x11: "no-subscription-existed", 0x18: "continue-authentication", 0x19: "re-authenticate",
	0x80: "unspecified-error", 0x81: "malformed-packet", 0x82: "protocol-error", 0x83: "implementation-specific-error",
	0x84: "unsupported-protocol-version", 0x85: "client-identifier-not-valid", 0x86: "bad-user-name-or-password",
	0x87: "not-authorized", 0x88: "server-unavailable", 0x89: "server-busy", 0x8A: "banned", 0x8B: "server-shutting-down",
	0x8C: "bad-authentication-method", 0x8D: "keep-alive-timeout", 0x8E: "session-taken-over", 0x8F: "topic-filter-invalid",
	0x90: "topic-name-invalid", 0x91: "packet-identifier-in-use", 0x92: "packet-identifier-not-found", 0x93: "receive-maximum-exceeded",
	0x94: "topic-alias-invalid", 0x95: "packet-too-large", 0x96: "message-rate-too-high", 0x97: "quota-exceeded",
	0x98: "administrative-action", 0x99: "payload-format-invalid", 0x9A: "retain-not-supported", 0x9B: "qos-not-supported",
	0x9C: "use-another-server", 0x9D: "server-moved", 0x9E: "shared-subscriptions-not-supported", 0x9F: "connection-rate-exceeded",
	0xA0: "maximum-connect-time", 0xA1: "subscription-identifiers-not-supported", 0xA2: "wildcard-subscriptions-not-supported",
}

// connackName names a CONNACK's code: a 3.1.1 return code (section
// 3.2.2.3) or a v5 reason code.
func connackName(rc byte, v5 bool) string {
	if v5 {
		return reasonName(rc)
	}
	switch rc {
	case 0:
		return "accepted"
	case 1:
		return "unacceptable-protocol-version"
	case 2:
		return "identifier-rejected"
	case 3:
		return "server-unavailable"
	case 4:
		return "bad-user-name-or-password"
	case 5:
		return "not-authorized"
	}
	return "return-code=" + strconv.Itoa(int(rc))
}

// subackName names a 3.1.1 SUBACK return code (section 3.9.3).
func subackName(rc byte) string {
	switch rc {
	case 0, 1, 2:
		return "granted-qos-" + strconv.Itoa(int(rc))
	case 0x80:
		return "failure"
	}
	return "return-code=0x" + strconv.FormatInt(int64(rc), 16)
}

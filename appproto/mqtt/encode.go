package mqtt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
)

// maxRemaining is the largest Remaining Length four bytes hold (section
// 2.2.3).
const maxRemaining = 268_435_455

// Connect returns a CONNECT packet (3.1.1 section 3.1, 5.0 section 3.1):
// clean session, no will, no user name or password; v5 asks for 5.0 with
// no properties. An empty clientID asks the server to assign one (3.1.3.1,
// allowed with a clean session).
func Connect(clientID string, keepAlive uint16, v5 bool) ([]byte, error) {
	if err := checkString("client identifier", clientID); err != nil {
		return nil, err
	}
	level := byte(4)
	if v5 {
		level = 5
	}
	body := appendString(nil, "MQTT")
	body = append(body, level, 0x02, byte(keepAlive>>8), byte(keepAlive)) // 0x02: clean session
	body = appendProps(body, v5)
	body = appendString(body, clientID)
	return packet(CONNECT<<4, body)
}

// Subscribe returns a SUBSCRIBE packet for one topic filter at the
// maximum QoS qos (3.1.1 section 3.8, 5.0 section 3.8).
func Subscribe(id uint16, filter string, qos byte, v5 bool) ([]byte, error) {
	if err := checkFilter(filter); err != nil {
		return nil, err
	}
	if err := checkQoS(qos); err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, errors.New("packet identifier 0 is not allowed (section 2.3.1)")
	}
	body := []byte{byte(id >> 8), byte(id)}
	body = appendProps(body, v5)
	body = appendString(body, filter)
	body = append(body, qos)
	return packet(SUBSCRIBE<<4|0x02, body) // flags 0010 (section 3.8.1)
}

// Publish returns a PUBLISH packet (3.1.1 section 3.3, 5.0 section 3.3);
// id is its packet identifier when qos > 0, and ignored at QoS 0.
func Publish(topic string, payload []byte, qos byte, retain bool, id uint16, v5 bool) ([]byte, error) {
	if topic == "" {
		return nil, errors.New("empty topic name (section 4.7.3)")
	}
	if strings.ContainsAny(topic, "#+") {
		return nil, fmt.Errorf("topic name %q has a wildcard: they are for subscriptions (section 4.7.1)", topic)
	}
	if err := checkString("topic name", topic); err != nil {
		return nil, err
	}
	if err := checkQoS(qos); err != nil {
		return nil, err
	}
	first := byte(PUBLISH<<4) | qos<<1
	if retain {
		first |= 1
	}
	body := appendString(nil, topic)
	if qos > 0 {
		if id == 0 {
			return nil, errors.New("packet identifier 0 is not allowed (section 2.3.1)")
		}
		body = append(body, byte(id>>8), byte(id))
	}
	body = appendProps(body, v5)
	if len(body)+len(payload) > maxRemaining {
		return nil, fmt.Errorf("payload of %d bytes: a packet holds at most %d (section 2.2.3)", len(payload), maxRemaining)
	}
	return packet(first, append(body, payload...))
}

// Disconnect returns a DISCONNECT packet: in 5.0 too, for its Reason
// Code 0 (normal disconnection) may be left out (5.0 section 3.14.2.1).
func Disconnect() []byte { return []byte{DISCONNECT << 4, 0} }

// packet puts the fixed header before body.
func packet(first byte, body []byte) ([]byte, error) {
	n := len(body)
	if n > maxRemaining {
		return nil, fmt.Errorf("packet of %d bytes: at most %d (section 2.2.3)", n, maxRemaining)
	}
	out := make([]byte, 0, 5+n)
	out = append(out, first)
	for {
		c := byte(n % 128)
		n /= 128
		if n > 0 {
			c |= 0x80
		}
		out = append(out, c)
		if n == 0 {
			break
		}
	}
	return append(out, body...), nil
}

// appendProps adds an empty v5 property list (5.0 section 2.2.2); 3.1.1
// has none.
func appendProps(b []byte, v5 bool) []byte {
	if v5 {
		return append(b, 0)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = append(b, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}

// checkString: a UTF-8 Encoded String is at most 65,535 bytes of UTF-8
// without U+0000 (section 1.5.3).
func checkString(what, s string) error {
	switch {
	case len(s) > 0xffff:
		return fmt.Errorf("%s of %d bytes: at most 65535 (section 1.5.3)", what, len(s))
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not UTF-8 (section 1.5.3)", what)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%s holds U+0000 (section 1.5.3)", what)
	}
	return nil
}

// checkFilter: a topic filter is not empty, and '#' comes last and alone
// in its level, '+' alone in its level (section 4.7.1).
func checkFilter(f string) error {
	if f == "" {
		return errors.New("empty topic filter (section 4.7.3)")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return fmt.Errorf("topic filter %q: '#' stands alone as the last level (section 4.7.1.2)", f)
		}
		if strings.Contains(l, "+") && l != "+" {
			return fmt.Errorf("topic filter %q: '+' stands alone in its level (section 4.7.1.3)", f)
		}
	}
	return checkString("topic filter", f)
}

func checkQoS(qos byte) error {
	if qos > 2 {
		return fmt.Errorf("QoS %d: want 0, 1 or 2 (section 4.3)", qos)
	}
	return nil
}

// ClientReply returns what a client sends back on the unit u the server
// sent, and whether it sends anything: the next packet of the QoS 1 and 2
// flows (sections 4.3.2, 4.3.3): PUBACK for a QoS 1 PUBLISH, PUBREC for a
// QoS 2 one, PUBCOMP for a PUBREL, and PUBREL for a PUBREC answering the
// client's own PUBLISH. Without a Reason Code, which is success in 5.0
// too (5.0 section 3.4.2.1), the bytes are the same in both versions.
func ClientReply(u *inspect.Decoded) ([]byte, bool) {
	if u.Protocol != label || u.Err != "" {
		return nil, false
	}
	id, ok := u.Field("id")
	n, err := strconv.ParseUint(id, 10, 16)
	if !ok || err != nil {
		return nil, false
	}
	var first byte
	switch u.Type {
	case "PUBLISH":
		switch qos, _ := u.Field("qos"); qos {
		case "1":
			first = PUBACK << 4
		case "2":
			first = PUBREC << 4
		default:
			return nil, false
		}
	case "PUBREC":
		first = PUBREL<<4 | 0x02 // flags 0010 (section 3.6.1)
	case "PUBREL":
		first = PUBCOMP << 4
	default:
		return nil, false
	}
	return []byte{first, 2, byte(n >> 8), byte(n)}, true
}

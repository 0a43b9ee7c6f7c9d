// Package mqtt decodes MQTT 3.1.1 (OASIS Standard, 29 October 2014) and
// MQTT 5.0 (OASIS Standard, 7 March 2019) over WebSocket: binary
// messages carrying the MQTT byte stream (3.1.1 section 6, 5.0 section
// 6), so a control packet may span messages and one message may carry
// several. Every control packet is decoded: the fixed header's type and
// flags (DUP, QoS, RETAIN), the variable header (packet identifier, v5
// properties and reason codes) and the payload (topics and their
// options, the application message's size).
//
// The protocol level comes from the client's CONNECT (4 is 3.1.1, 5 is
// 5.0, 3 is 3.1); before one is seen, packets are read as 3.1.1.
// Passwords and authentication data are shown by size only.
package mqtt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

const label = "mqtt"

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:         "mqtt",
	Title:        "MQTT 3.1.1 and 5.0",
	Subprotocols: []string{"mqtt", "mqttv3.1"},
	URL:          appproto.PathEnds("/mqtt"),
	Sniff:        sniff,
	New:          func(string) appproto.Decoder { return &Decoder{} },
}

// sniff: the client's first bytes are a CONNECT naming "MQTT" (or
// "MQIsdp", 3.1).
func sniff(m *inspect.Message) string {
	p := m.Payload
	if m.Dir != inspect.ClientToServer || m.Op != inspect.OpBinary || len(p) < 2 || p[0] != 0x10 {
		return ""
	}
	_, n, err := remainingLength(p[1:])
	if err != nil {
		return ""
	}
	r := reader{b: p[1+n:]}
	if name := r.str(); r.err == nil && (name == "MQTT" || name == "MQIsdp") {
		return "a CONNECT packet from the client"
	}
	return ""
}

// Packet types (3.1.1 section 2.2.1, 5.0 section 2.1.2).
const (
	CONNECT = iota + 1
	CONNACK
	PUBLISH
	PUBACK
	PUBREC
	PUBREL
	PUBCOMP
	SUBSCRIBE
	SUBACK
	UNSUBSCRIBE
	UNSUBACK
	PINGREQ
	PINGRESP
	DISCONNECT
	AUTH
)

var typeNames = [...]string{"reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

// Decoder holds each direction's bytes of a packet still incomplete, the
// protocol level, and the open packet identifiers.
type Decoder struct {
	level  byte      // 0 until CONNECT: read as 4
	buf    [3][]byte // by direction
	topics appproto.Pending
}

func (d *Decoder) v5() bool { return d.level == 5 }

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	if m.Op != inspect.OpBinary {
		return []inspect.Decoded{appproto.Failed(label, "text message: MQTT over WebSocket is sent in binary messages (section 6)")}
	}
	slot := 0
	if m.Dir <= inspect.ServerToClient {
		slot = int(m.Dir)
	}
	// b is the stream from the first byte not yet read; owned when it is
	// the decoder's buffer (m.Payload is valid only during the call).
	b, owned := m.Payload, false
	if len(d.buf[slot]) > 0 {
		b, owned = append(d.buf[slot], m.Payload...), true
		d.buf[slot] = nil
	}
	keep := func() {
		if owned {
			d.buf[slot] = b
		} else {
			d.buf[slot] = append([]byte(nil), b...)
		}
	}
	var out []inspect.Decoded
	for len(b) > 0 {
		if len(b) < 2 {
			keep()
			break
		}
		rl, n, err := remainingLength(b[1:])
		if errors.Is(err, errShort) {
			keep()
			break
		}
		if err != nil {
			out = append(out, appproto.Failed(label, err.Error()))
			break // the stream cannot be followed past a bad length
		}
		total := 1 + n + rl
		if total > appproto.MaxBuffer {
			out = append(out, appproto.Failed(label, fmt.Sprintf("packet of %d bytes is longer than the %d this decoder holds", total, appproto.MaxBuffer)))
			break
		}
		if len(b) < total {
			keep()
			break
		}
		out = append(out, d.packet(m.Dir, b[0], b[1+n:total]))
		b = b[total:]
	}
	if len(d.buf[slot]) > 0 && len(out) == 0 {
		// Say something for the message: its bytes are not lost.
		out = append(out, inspect.Decoded{Protocol: label, Type: "partial", Summary: appproto.Summary(label, "(partial packet,", strconv.Itoa(len(d.buf[slot])), "B so far)"),
			Fields: []inspect.DecodedField{appproto.Int("buffered", int64(len(d.buf[slot])))}})
	}
	return out
}

var errShort = errors.New("short")

// remainingLength reads the Remaining Length (3.1.1 section 2.2.3): at
// most four bytes of seven bits each.
func remainingLength(b []byte) (n, size int, err error) {
	mult := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, errShort
		}
		n += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return n, i + 1, nil
		}
		mult *= 128
	}
	return 0, 0, errors.New("malformed Remaining Length: more than four bytes (section 2.2.3)")
}

// reader reads a packet's fields; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = errors.New("packet ends inside its " + what)
	}
}

// take reads the next n bytes, or fails naming what ends short.
func (r *reader) take(n int, what string) []byte {
	if len(r.b) < n {
		r.fail(what)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte1(what string) byte {
	if b := r.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) varint(what string) int {
	n, size, err := remainingLength(r.b)
	if err != nil {
		r.fail(what)
		return 0
	}
	r.b = r.b[size:]
	return n
}

func (r *reader) bin(what string) []byte {
	n := int(r.u16(what + " length"))
	if r.err != nil {
		return nil
	}
	return r.take(n, what)
}

// str reads a UTF-8 Encoded String (section 1.5.3).
func (r *reader) str(what ...string) string {
	w := "string"
	if len(what) > 0 {
		w = what[0]
	}
	v := r.bin(w)
	if r.err == nil && !utf8.Valid(v) {
		r.err = errors.New(w + " is not UTF-8 (section 1.5.3)")
	}
	return string(v)
}

// packet decodes one control packet: first byte, and the rest.
func (d *Decoder) packet(dir inspect.Direction, first byte, body []byte) inspect.Decoded {
	t := int(first >> 4)
	flags := first & 0x0f
	u := inspect.Decoded{Protocol: label, Type: typeNames[t]}
	r := &reader{b: body}
	var words []string
	switch t {
	case CONNECT:
		words = d.connect(r, &u)
	case CONNACK:
		ack := r.byte1("acknowledge flags")
		rc := r.byte1("return code")
		u.Fields = append(u.Fields, appproto.Str("sessionPresent", strconv.FormatBool(ack&1 == 1)), appproto.Int("code", int64(rc)), appproto.Str("reason", connackName(rc, d.v5())))
		words = append(words, connackName(rc, d.v5()))
		if ack&1 == 1 {
			words = append(words, "session-present")
		}
		words = append(words, d.props(r, &u)...)
		u.Corr, u.CorrRole = "connect", inspect.CorrAnswer
	case PUBLISH:
		qos := flags >> 1 & 3
		topic := r.str("topic")
		u.Op = topic
		u.Fields = append(u.Fields, appproto.Str("topic", topic), appproto.Int("qos", int64(qos)), appproto.Str("retain", strconv.FormatBool(flags&1 == 1)), appproto.Str("dup", strconv.FormatBool(flags&8 != 0)))
		words = append(words, "topic="+topic, "qos="+strconv.Itoa(int(qos)))
		if qos == 3 {
			u.Err = "QoS 3 is malformed (section 3.3.1.2)"
		}
		if qos > 0 {
			id := r.u16("packet identifier")
			u.Fields = append(u.Fields, appproto.Int("id", int64(id)))
			words = append(words, "id="+strconv.Itoa(int(id)))
			u.Corr, u.CorrRole = idKey(dir, id), inspect.CorrRequest
			if r.err == nil {
				d.topics.Put(u.Corr, topic)
			}
		}
		if flags&1 == 1 {
			words = append(words, "retain")
		}
		if flags&8 != 0 {
			words = append(words, "dup")
		}
		pw := d.props(r, &u)
		if r.err == nil {
			u.Fields = append(u.Fields, appproto.Int("size", int64(len(r.b))), payloadField(r.b))
			words = append(words, appproto.Size(len(r.b)))
			words = append(words, pw...)
			words = append(words, payloadPreview(r.b))
			r.b = nil
		}
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		id := r.u16("packet identifier")
		u.Fields = append(u.Fields, appproto.Int("id", int64(id)))
		words = append(words, "id="+strconv.Itoa(int(id)))
		// PUBACK and PUBREC answer the sender of the PUBLISH; PUBREL comes
		// from it again, PUBCOMP from the other side.
		origin := appproto.Peer(dir)
		if t == PUBREL {
			origin = dir
		}
		u.Corr = idKey(origin, id)
		switch t {
		case PUBACK, PUBCOMP:
			u.CorrRole, u.Op = inspect.CorrAnswer, d.topics.Take(u.Corr)
		default:
			u.CorrRole, u.Op = inspect.CorrPart, d.topics.Get(u.Corr)
		}
		if d.v5() && len(r.b) > 0 {
			rc := r.byte1("reason code")
			u.Fields = append(u.Fields, appproto.Int("code", int64(rc)), appproto.Str("reason", reasonName(rc)))
			words = append(words, reasonName(rc))
			if len(r.b) > 0 {
				words = append(words, d.props(r, &u)...)
			}
		}
		if u.Op != "" {
			words = append(words, "topic="+u.Op)
		}
		if t == PUBREL && flags != 2 || t != PUBREL && flags != 0 {
			u.Err = "reserved flags are not as section 2.2.2 sets them"
		}
	case SUBSCRIBE, UNSUBSCRIBE:
		id := r.u16("packet identifier")
		u.Fields = append(u.Fields, appproto.Int("id", int64(id)))
		words = append(words, "id="+strconv.Itoa(int(id)))
		words = append(words, d.props(r, &u)...)
		var filters []string
		for r.err == nil && len(r.b) > 0 {
			f := r.str("topic filter")
			if len(filters) == 0 {
				u.Op = f
			}
			if t == SUBSCRIBE {
				opt := r.byte1("subscription options")
				f += " qos=" + strconv.Itoa(int(opt&3))
				if d.v5() {
					if opt&4 != 0 {
						f += " no-local"
					}
					if opt&8 != 0 {
						f += " retain-as-published"
					}
					if rh := opt >> 4 & 3; rh != 0 {
						f += " retain-handling=" + strconv.Itoa(int(rh))
					}
				}
			}
			filters = append(filters, f)
		}
		if len(filters) == 0 && r.err == nil {
			u.Err = "no topic filter (sections 3.8.3, 3.10.3)"
		}
		for i, f := range filters {
			u.Fields = append(u.Fields, appproto.Str("filter"+strconv.Itoa(i+1), f))
		}
		words = append(words, strings.Join(filters, ", "))
		u.Corr, u.CorrRole = idKey(dir, id), inspect.CorrRequest
		d.topics.Put(u.Corr, u.Op)
		if flags != 2 {
			u.Err = "reserved flags are not 0010 (section 2.2.2)"
		}
	case SUBACK, UNSUBACK:
		id := r.u16("packet identifier")
		u.Fields = append(u.Fields, appproto.Int("id", int64(id)))
		words = append(words, "id="+strconv.Itoa(int(id)))
		words = append(words, d.props(r, &u)...)
		u.Corr, u.CorrRole = idKey(appproto.Peer(dir), id), inspect.CorrAnswer
		u.Op = d.topics.Take(u.Corr)
		var codes []string
		for r.err == nil && len(r.b) > 0 {
			rc := r.byte1("reason code")
			name := reasonName(rc)
			if !d.v5() && t == SUBACK {
				name = subackName(rc)
			}
			codes = append(codes, name)
		}
		if len(codes) > 0 {
			u.Fields = append(u.Fields, appproto.Str("codes", strings.Join(codes, ",")))
			words = append(words, strings.Join(codes, ","))
		}
	case PINGREQ:
		u.Corr, u.CorrRole = "ping", inspect.CorrRequest
	case PINGRESP:
		u.Corr, u.CorrRole = "ping", inspect.CorrAnswer
	case DISCONNECT, AUTH:
		if d.v5() && len(r.b) > 0 {
			rc := r.byte1("reason code")
			u.Fields = append(u.Fields, appproto.Int("code", int64(rc)), appproto.Str("reason", reasonName(rc)))
			words = append(words, reasonName(rc))
			if len(r.b) > 0 {
				words = append(words, d.props(r, &u)...)
			}
		}
		if t == AUTH && !d.v5() {
			u.Err = "AUTH exists in MQTT 5.0 only"
		}
	default:
		u.Err = "reserved packet type 0 (section 2.2.1)"
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes past the end of the packet's fields", len(r.b))
	}
	if r.err != nil && u.Err == "" {
		u.Err = r.err.Error()
	}
	u.Summary = appproto.Summary(label, append([]string{u.Type}, words...)...)
	if u.Err != "" {
		u.Summary += " ?? " + u.Err
	}
	return u
}

func (d *Decoder) connect(r *reader, u *inspect.Decoded) []string {
	name := r.str("protocol name")
	level := r.byte1("protocol level")
	flags := r.byte1("connect flags")
	keep := r.u16("keep alive")
	if r.err != nil {
		return nil
	}
	d.level = level
	version := map[byte]string{3: "3.1", 4: "3.1.1", 5: "5.0"}[level]
	if version == "" {
		version = "level " + strconv.Itoa(int(level))
		u.Err = "unknown protocol level " + strconv.Itoa(int(level))
	}
	u.Fields = append(u.Fields, appproto.Str("protocol", name), appproto.Str("version", version), appproto.Int("keepAlive", int64(keep)),
		appproto.Str("cleanStart", strconv.FormatBool(flags&2 != 0)))
	words := []string{"v" + version}
	pw := d.props(r, u)
	id := r.str("client identifier")
	u.Fields = append(u.Fields, appproto.Str("clientId", id))
	words = append(words, "client="+strconv.Quote(id), "keepalive="+strconv.Itoa(int(keep)))
	if flags&2 != 0 {
		words = append(words, "clean")
	}
	if flags&4 != 0 {
		if d.v5() {
			var will inspect.Decoded
			d.props(r, &will)
			for _, f := range will.Fields {
				f.Key = "will." + f.Key
				u.Fields = append(u.Fields, f)
			}
		}
		topic := r.str("will topic")
		msg := r.bin("will payload")
		u.Fields = append(u.Fields, appproto.Str("willTopic", topic), appproto.Int("willQos", int64(flags>>3&3)), appproto.Str("willRetain", strconv.FormatBool(flags&0x20 != 0)), appproto.Int("willSize", int64(len(msg))))
		words = append(words, "will="+topic)
	}
	if flags&0x80 != 0 {
		user := r.str("user name")
		u.Fields = append(u.Fields, appproto.Str("username", user))
		words = append(words, "user="+strconv.Quote(user))
	}
	if flags&0x40 != 0 {
		pass := r.bin("password")
		u.Fields = append(u.Fields, appproto.Int("passwordSize", int64(len(pass))))
		words = append(words, "password=("+appproto.Size(len(pass))+")")
	}
	if flags&1 != 0 {
		u.Err = "reserved connect flag set (section 3.1.2.3)"
	}
	u.Corr, u.CorrRole = "connect", inspect.CorrRequest
	return append(words, pw...)
}

// idKey pairs packets by the identifier their sender chose: each side
// numbers its own.
func idKey(sender inspect.Direction, id uint16) string {
	return "id " + sender.String() + " " + strconv.Itoa(int(id))
}

// printable reports whether p reads as text: UTF-8 without control
// characters but tab and line ends.
func printable(p []byte) bool {
	for _, c := range p {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(p)
}

func payloadField(p []byte) inspect.DecodedField {
	if printable(p) {
		return appproto.Str("payload", string(p))
	}
	return appproto.Str("payloadHex", fmt.Sprintf("%x", p[:min(len(p), 256)]))
}

func payloadPreview(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if printable(p) {
		return strconv.Quote(appproto.Preview(string(p)))
	}
	return fmt.Sprintf("%x", p[:min(len(p), 16)])
}

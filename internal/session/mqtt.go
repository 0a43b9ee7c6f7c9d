package session

import (
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"weak"

	"github.com/wscope/wscope/appproto/mqtt"
	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// mqttSend is one /mqtt command: the packet is made when it is sent, for
// its packet identifier and protocol level are the connection's.
type mqttSend struct {
	packet    int // mqtt.CONNECT, SUBSCRIBE, PUBLISH, DISCONNECT
	clientID  string
	keepAlive uint16
	v5        bool
	topic     string
	payload   []byte
	qos       byte
	retain    bool
}

const mqttUsage = "want connect, subscribe, publish or disconnect (/help)"

// parseMQTT reads "/mqtt connect [CLIENTID] [keepalive=N] [v5]",
// "/mqtt subscribe FILTER [qos=N]", "/mqtt publish TOPIC [PAYLOAD]
// [qos=N] [retain]" and "/mqtt disconnect".
func parseMQTT(a *action, _, rest string) error {
	sub, rest, _ := strings.Cut(rest, " ")
	rest = strings.TrimLeft(rest, " ")
	m := mqttSend{}
	var err error
	switch sub {
	case "connect":
		m.packet = mqtt.CONNECT
		err = m.connectArgs(strings.Fields(rest))
	case "subscribe":
		m.packet = mqtt.SUBSCRIBE
		err = m.subscribeArgs(strings.Fields(rest))
	case "publish":
		m.packet = mqtt.PUBLISH
		err = m.publishArgs(rest)
	case "disconnect":
		m.packet = mqtt.DISCONNECT
		if rest != "" {
			err = fmt.Errorf("disconnect takes no argument, got %q", clip(rest))
		}
	case "":
		err = errors.New(mqttUsage)
	default:
		err = fmt.Errorf("unknown packet %q: %s", clip(sub), mqttUsage)
	}
	if err == nil {
		_, err = m.encode(1, m.v5) // the same refusals as when it is sent
	}
	if err != nil && sub == "" {
		return fmt.Errorf("/mqtt: %v", err)
	}
	if err != nil {
		return fmt.Errorf("/mqtt %s: %v", clip(sub), err)
	}
	a.kind, a.mqtt = actMQTT, m
	return nil
}

func (m *mqttSend) connectArgs(args []string) error {
	var idGiven bool
	for _, arg := range args {
		switch k, v, ok := strings.Cut(arg, "="); {
		case ok && k == "keepalive":
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return fmt.Errorf("keepalive=%s: want seconds, 0 to 65535", clip(v))
			}
			m.keepAlive = uint16(n)
		case arg == "v5":
			m.v5 = true
		case !idGiven:
			m.clientID, idGiven = arg, true
		default:
			return fmt.Errorf("%q: the client identifier is %q already", clip(arg), m.clientID)
		}
	}
	if !idGiven {
		var b [4]byte
		crand.Read(b[:])
		m.clientID = "wscope-" + hex.EncodeToString(b[:])
	}
	return nil
}

func (m *mqttSend) subscribeArgs(args []string) error {
	if len(args) == 0 {
		return errors.New("want a topic filter, e.g. /mqtt subscribe sensors/#")
	}
	m.topic = args[0]
	for _, arg := range args[1:] {
		if err := m.option(arg, false); err != nil {
			return err
		}
	}
	return nil
}

// publishArgs: the topic, then the payload, which may hold spaces; qos=N
// and retain at its end are options.
func (m *mqttSend) publishArgs(rest string) error {
	topic, payload, _ := strings.Cut(rest, " ")
	if topic == "" {
		return errors.New("want a topic, e.g. /mqtt publish sensors/1 23 qos=1")
	}
	m.topic = topic
	payload = strings.TrimRight(payload, " ")
	for payload != "" {
		i := strings.LastIndexByte(payload, ' ')
		if m.option(payload[i+1:], true) != nil {
			break
		}
		payload = strings.TrimRight(payload[:max(i, 0)], " ")
	}
	m.payload = []byte(strings.TrimLeft(payload, " "))
	return nil
}

// option reads qos=N, and retain for a PUBLISH.
func (m *mqttSend) option(arg string, publish bool) error {
	if arg == "retain" && publish {
		m.retain = true
		return nil
	}
	if v, ok := strings.CutPrefix(arg, "qos="); ok {
		n, err := strconv.ParseUint(v, 10, 8)
		if err != nil || n > 2 {
			return fmt.Errorf("qos=%s: want 0, 1 or 2", clip(v))
		}
		m.qos = byte(n)
		return nil
	}
	return fmt.Errorf("unknown option %q", clip(arg))
}

// encode makes the packet with packet identifier id (used by SUBSCRIBE,
// and PUBLISH at QoS 1 and 2) at the level v5 says.
func (m *mqttSend) encode(id uint16, v5 bool) ([]byte, error) {
	switch m.packet {
	case mqtt.CONNECT:
		return mqtt.Connect(m.clientID, m.keepAlive, m.v5)
	case mqtt.SUBSCRIBE:
		return mqtt.Subscribe(id, m.topic, m.qos, v5)
	case mqtt.PUBLISH:
		return mqtt.Publish(m.topic, m.payload, m.qos, m.retain, id, v5)
	}
	return mqtt.Disconnect(), nil
}

// needsID reports whether the packet takes a packet identifier.
func (m *mqttSend) needsID() bool {
	return m.packet == mqtt.SUBSCRIBE || m.packet == mqtt.PUBLISH && m.qos > 0
}

// apply sends the packet on c in one binary message (MQTT over
// WebSocket, section 6).
func (m *mqttSend) apply(c *wire.Conn) error {
	p, err := mqttConnOf(c).packet(m)
	if err != nil {
		return err
	}
	return c.WriteMessage(inspect.OpBinary, p)
}

// mqttConn is what a connection's /mqtt commands share: the level its
// last /mqtt connect chose and the last packet identifier given.
type mqttConn struct {
	mu     sync.Mutex
	v5     bool
	lastID uint16
}

// packet makes m's packet, with the connection's next identifier when it
// takes one: 1 to 65535, then 1 again (an identifier is never 0, section
// 2.3.1; reused after 65535 others, long answered in a session typed by
// hand).
func (s *mqttConn) packet(m *mqttSend) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.packet == mqtt.CONNECT {
		s.v5 = m.v5
	}
	var id uint16
	if m.needsID() {
		s.lastID++
		if s.lastID == 0 {
			s.lastID = 1
		}
		id = s.lastID
	}
	return m.encode(id, s.v5)
}

// mqttConns holds the MQTT state of each connection a /mqtt command was
// sent on; an entry goes when its connection is collected.
var mqttConns struct {
	mu sync.Mutex
	m  map[weak.Pointer[wire.Conn]]*mqttConn
}

func mqttConnOf(c *wire.Conn) *mqttConn {
	k := weak.Make(c)
	mqttConns.mu.Lock()
	defer mqttConns.mu.Unlock()
	if s := mqttConns.m[k]; s != nil {
		return s
	}
	if mqttConns.m == nil {
		mqttConns.m = make(map[weak.Pointer[wire.Conn]]*mqttConn)
	}
	s := &mqttConn{}
	mqttConns.m[k] = s
	runtime.AddCleanup(c, func(k weak.Pointer[wire.Conn]) {
		mqttConns.mu.Lock()
		delete(mqttConns.m, k)
		mqttConns.mu.Unlock()
	}, k)
	return s
}

// mqttReplies plays the client's part of the QoS 1 and 2 flows on a
// connection the mqtt decoder reads (mqtt.ClientReply): the broker's
// messages are acknowledged, the client's QoS 2 ones released. With
// --decode none nothing is decoded, and nothing answered.
func mqttReplies(conn func() *wire.Conn) func(*inspect.Event) {
	return func(e *inspect.Event) {
		if e.Kind != inspect.KindMsg || e.Msg.Dir != inspect.ServerToClient {
			return
		}
		for i := range e.Msg.Decoded {
			if p, ok := mqtt.ClientReply(&e.Msg.Decoded[i]); ok {
				if c := conn(); c != nil {
					c.Send(inspect.OpBinary, p)
				}
			}
		}
	}
}

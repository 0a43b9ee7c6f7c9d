package appproto

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/wscope/wscope/inspect"
)

// None is the --decode value that turns decoding off.
const None = "none"

// SniffMessages is how many of a connection's first data messages content
// sniffing looks at before it gives up.
const SniffMessages = 4

// Lookup returns the protocol named name (case-insensitive), or an error
// listing the names there are.
func Lookup(protos []Protocol, name string) (*Protocol, error) {
	for i := range protos {
		if strings.EqualFold(protos[i].Name, name) {
			return &protos[i], nil
		}
	}
	return nil, fmt.Errorf("unknown decoder %q (have %s, none)", name, Names(protos))
}

// Names lists the protocols' names, comma-separated.
func Names(protos []Protocol) string {
	names := make([]string, len(protos))
	for i, p := range protos {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Choice is the decoder chosen for a connection and why.
type Choice struct {
	Proto *Protocol // nil: none (yet)
	// Why names the rule that chose: `subprotocol "mqtt"`, `URL path
	// /socket.io/ with EIO=4`, `--decode stomp`, `content: ...`; for no
	// decoder, why not.
	Why string
	// Sniff is set when no rule chose yet and the first messages are to be
	// looked at.
	Sniff bool
}

// Name returns the chosen protocol's name, or "none".
func (c Choice) Name() string {
	if c.Proto == nil {
		return None
	}
	return c.Proto.Name
}

// String reads "socketio (URL path /socket.io/ with EIO=4)".
func (c Choice) String() string { return c.Name() + " (" + c.Why + ")" }

// Choose picks the decoder for a connection from what its handshake
// says, in this order: forced (the --decode value: a name, or "none"),
// the negotiated subprotocol, the URL; when none of them decides, the
// choice is left to the first messages (Choice.Sniff). open may be nil
// (a capture with no handshake).
func Choose(protos []Protocol, forced string, open *inspect.Open) (Choice, error) {
	switch forced {
	case "":
	case None:
		return Choice{Why: "--decode none"}, nil
	default:
		p, err := Lookup(protos, forced)
		if err != nil {
			return Choice{}, err
		}
		return Choice{Proto: p, Why: "--decode " + p.Name}, nil
	}
	if open == nil {
		return Choice{Why: "sniffing the first messages", Sniff: true}, nil
	}
	if sp := open.Subprotocol; sp != "" {
		for i := range protos {
			for _, s := range protos[i].Subprotocols {
				if strings.EqualFold(s, sp) {
					return Choice{Proto: &protos[i], Why: fmt.Sprintf("subprotocol %q", sp)}, nil
				}
			}
		}
	}
	if u := openURL(open); u != nil {
		for i := range protos {
			if protos[i].URL == nil {
				continue
			}
			if why := protos[i].URL(u); why != "" {
				return Choice{Proto: &protos[i], Why: "URL " + why}, nil
			}
		}
	}
	return Choice{Why: "sniffing the first messages", Sniff: true}, nil
}

// openURL returns the URL the handshake asked for: Open.URL, or the
// request target when that is all there is (listen, a capture).
func openURL(o *inspect.Open) *url.URL {
	for _, s := range []string{o.URL, o.Request.Target} {
		if s == "" {
			continue
		}
		if u, err := url.Parse(s); err == nil {
			return u
		}
	}
	return nil
}

// Sniff returns the one protocol whose Sniff recognises m, and why; nil
// when none does or more than one does (ambiguous content decides
// nothing).
func Sniff(protos []Protocol, m *inspect.Message) (*Protocol, string) {
	var (
		found *Protocol
		why   string
	)
	for i := range protos {
		if protos[i].Sniff == nil {
			continue
		}
		if w := protos[i].Sniff(m); w != "" {
			if found != nil {
				return nil, ""
			}
			found, why = &protos[i], w
		}
	}
	return found, why
}

// Conn decodes one connection's messages with the decoder chosen for it,
// sniffing the first messages when its handshake chose none. Not safe for
// concurrent use.
type Conn struct {
	protos []Protocol
	choice Choice
	dec    Decoder
	sub    string
	seen   int // data messages looked at while sniffing
}

// NewConn returns the decoding of a connection chosen as c, with the
// subprotocol it negotiated.
func NewConn(protos []Protocol, c Choice, subprotocol string) *Conn {
	dc := &Conn{protos: protos, choice: c, sub: subprotocol}
	if c.Proto != nil {
		dc.dec = c.Proto.New(subprotocol)
	}
	return dc
}

// Choice returns the decoder in use and why; it changes once, when
// sniffing decides.
func (c *Conn) Choice() Choice { return c.choice }

// Inert reports whether no message will ever be decoded: no decoder was
// chosen and sniffing is over (or was never asked for).
func (c *Conn) Inert() bool { return c.dec == nil && !c.choice.Sniff }

// Decode returns what m holds, and whether this message made the choice
// (sniffing decided, or gave up): the caller may say so.
func (c *Conn) Decode(m *inspect.Message) (ds []inspect.Decoded, chose bool) {
	if c.dec == nil {
		if !c.choice.Sniff || (m.Op != inspect.OpText && m.Op != inspect.OpBinary) {
			return nil, false
		}
		c.seen++
		p, why := Sniff(c.protos, m)
		switch {
		case p != nil:
			c.choice = Choice{Proto: p, Why: "content: " + why}
			c.dec = p.New(c.sub)
			chose = true
		case c.seen >= SniffMessages:
			c.choice = Choice{Why: fmt.Sprintf("no protocol recognised in the first %d messages", SniffMessages)}
			return nil, true
		default:
			return nil, false
		}
	}
	if m.Op != inspect.OpText && m.Op != inspect.OpBinary {
		return nil, chose
	}
	return c.dec.Decode(m), chose
}

package wire

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"

	"github.com/wscope/wscope/inspect"
)

// Compression holds the parameters of permessage-deflate (RFC 7692): what
// a client offers or a server allows, and, once negotiated, what was
// agreed. wscope compresses within any window from 8 to 15 bits.
type Compression struct {
	// ServerNoContextTakeover: the server resets its compressor after
	// every message.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compressor after
	// every message.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits bounds the server's LZ77 window to 2^N bytes
	// (8..15). A client asks for it; a server compresses within it and
	// says so in its answer, or within the smaller one a client asked
	// for. 0: no bound (15 bits).
	ServerMaxWindowBits int
	// ClientMaxWindowBits bounds the client's LZ77 window to 2^N bytes
	// (8..15). A client offers it with this value, or without one
	// (AnyWindowBits), and compresses within what the server answers; a
	// server asks it of clients whose offer has it. 0: not offered, not
	// asked.
	ClientMaxWindowBits int
	// Level is the compress/flate level for what we send; 0 is the
	// default. It applies to the 15-bit window (section 7.1.2 allows
	// smaller ones, which wscope's own encoder serves).
	Level int
}

// AnyWindowBits as a client's ClientMaxWindowBits offers the parameter
// without a value, as browsers do: the server may then bound the
// client's window (section 7.1.2.2).
const AnyWindowBits = -1

// Check reports parameters out of their ranges.
func (c *Compression) Check() error {
	if b := c.ServerMaxWindowBits; b != 0 && (b < 8 || b > 15) {
		return fmt.Errorf("server_max_window_bits=%d: must be between 8 and 15", b)
	}
	if b := c.ClientMaxWindowBits; b != 0 && b != AnyWindowBits && (b < 8 || b > 15) {
		return fmt.Errorf("client_max_window_bits=%d: must be between 8 and 15", b)
	}
	if c.Level < -2 || c.Level > 9 {
		return fmt.Errorf("compression level %d: must be between -2 and 9", c.Level)
	}
	return nil
}

// offer is the client's Sec-WebSocket-Extensions offer.
func (c *Compression) offer() httphead.Option {
	p := wsflate.Parameters{
		ServerNoContextTakeover: c.ServerNoContextTakeover,
		ClientNoContextTakeover: c.ClientNoContextTakeover,
		ServerMaxWindowBits:     wsflate.WindowBits(c.ServerMaxWindowBits),
	}
	switch {
	case c.ClientMaxWindowBits == AnyWindowBits:
		p.ClientMaxWindowBits = 1 // wsflate's spelling of "without a value"
	case c.ClientMaxWindowBits > 0:
		p.ClientMaxWindowBits = wsflate.WindowBits(c.ClientMaxWindowBits)
	}
	return p.Option()
}

// String renders the parameters as an extension header value.
func (c *Compression) String() string {
	var b strings.Builder
	b.WriteString(wsflate.ExtensionName)
	if c.ServerNoContextTakeover {
		b.WriteString("; server_no_context_takeover")
	}
	if c.ClientNoContextTakeover {
		b.WriteString("; client_no_context_takeover")
	}
	if c.ServerMaxWindowBits > 0 {
		b.WriteString("; server_max_window_bits=" + strconv.Itoa(c.ServerMaxWindowBits))
	}
	if c.ClientMaxWindowBits > 0 {
		b.WriteString("; client_max_window_bits=" + strconv.Itoa(c.ClientMaxWindowBits))
	}
	return b.String()
}

// extOffer is one extension of a Sec-WebSocket-Extensions header, its
// parameters in order.
type extOffer struct {
	name   string
	params []inspect.HeaderField
}

// parseExtHeaders reads every Sec-WebSocket-Extensions header in hs.
func parseExtHeaders(hs []inspect.HeaderField) ([]extOffer, error) {
	var xs []extOffer
	for _, h := range hs {
		if !strings.EqualFold(h.Name, "Sec-WebSocket-Extensions") {
			continue
		}
		opts, ok := httphead.ParseOptions([]byte(h.Value), nil)
		if !ok {
			return nil, fmt.Errorf("malformed Sec-WebSocket-Extensions %q", h.Value)
		}
		for _, o := range opts {
			x := extOffer{name: strings.ToLower(string(o.Name))}
			o.Parameters.ForEach(func(k, v []byte) bool {
				x.params = append(x.params, inspect.HeaderField{Name: strings.ToLower(string(k)), Value: strings.Trim(string(v), `"`)})
				return true
			})
			xs = append(xs, x)
		}
	}
	return xs, nil
}

// parseParams reads permessage-deflate parameters (section 7.1): unknown,
// duplicate or invalid ones are an error naming them. A
// client_max_window_bits without a value reads as AnyWindowBits.
func parseParams(ps []inspect.HeaderField) (*Compression, error) {
	c := &Compression{}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Name] {
			return nil, fmt.Errorf("parameter %s appears twice", p.Name)
		}
		seen[p.Name] = true
		switch p.Name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.Value != "" {
				return nil, fmt.Errorf("parameter %s takes no value, got %q", p.Name, p.Value)
			}
			if p.Name == "server_no_context_takeover" {
				c.ServerNoContextTakeover = true
			} else {
				c.ClientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits := AnyWindowBits
			if p.Value != "" || p.Name == "server_max_window_bits" {
				n, err := strconv.Atoi(p.Value)
				if err != nil || n < 8 || n > 15 || p.Value[0] == '0' || p.Value[0] == '+' {
					return nil, fmt.Errorf("parameter %s=%q: must be a number from 8 to 15", p.Name, p.Value)
				}
				bits = n
			}
			if p.Name == "server_max_window_bits" {
				c.ServerMaxWindowBits = bits
			} else {
				c.ClientMaxWindowBits = bits
			}
		default:
			return nil, fmt.Errorf("unknown parameter %s", p.Name)
		}
	}
	return c, nil
}

// checkAnswer validates the server's answer to our offer (section 7.1)
// and returns what was agreed, nil when the server declined.
func checkAnswer(offer *Compression, resp []inspect.HeaderField) (*Compression, error) {
	xs, err := parseExtHeaders(resp)
	if err != nil {
		return nil, err
	}
	var got *Compression
	for _, x := range xs {
		if x.name != wsflate.ExtensionName {
			return nil, fmt.Errorf("server selected extension %q, which the client did not offer", x.name)
		}
		if offer == nil {
			return nil, fmt.Errorf("server selected extension %s, which the client did not offer", x.name)
		}
		if got != nil {
			return nil, fmt.Errorf("server selected %s twice", x.name)
		}
		a, err := parseParams(x.params)
		if err == nil {
			err = answerFits(offer, a)
		}
		if err != nil {
			return nil, fmt.Errorf("server's %s: %v", x.name, err)
		}
		// What we offered to do, we do, even when the answer does not
		// repeat it: reset our context (section 7.1.1.2 lets a client
		// reset at will) and keep within the window we named.
		a.ClientNoContextTakeover = a.ClientNoContextTakeover || offer.ClientNoContextTakeover
		if a.ClientMaxWindowBits == 0 && offer.ClientMaxWindowBits > 0 {
			a.ClientMaxWindowBits = offer.ClientMaxWindowBits
		}
		a.Level = offer.Level
		got = a
	}
	return got, nil
}

// answerFits reports the first thing in the server's answer a that the
// offer does not allow (section 7.1). A server may add server_no_context_takeover,
// client_no_context_takeover and server_max_window_bits of its own accord
// (sections 7.1.1.1, 7.1.1.2, 7.1.2.1): they bind only the server, or ask
// the client for what it may do anyway, and wscope reads any window.
func answerFits(offer, a *Compression) error {
	switch {
	case offer.ServerNoContextTakeover && !a.ServerNoContextTakeover:
		// Section 7.1.1.1: a server accepts it by including it.
		return fmt.Errorf("the offer asked for server_no_context_takeover and the answer does not have it")
	case offer.ServerMaxWindowBits > 0 && a.ServerMaxWindowBits == 0:
		// Section 7.1.2.1: a server accepts it by including it with the
		// same or a smaller value.
		return fmt.Errorf("the offer asked for server_max_window_bits=%d and the answer does not have it", offer.ServerMaxWindowBits)
	case offer.ServerMaxWindowBits > 0 && a.ServerMaxWindowBits > offer.ServerMaxWindowBits:
		return fmt.Errorf("server_max_window_bits=%d is larger than the %d offered", a.ServerMaxWindowBits, offer.ServerMaxWindowBits)
	case a.ClientMaxWindowBits == AnyWindowBits:
		// Section 7.1.2.2: in an answer it has a value.
		return fmt.Errorf("parameter client_max_window_bits needs a value in an answer")
	case a.ClientMaxWindowBits != 0 && offer.ClientMaxWindowBits == 0:
		// Section 7.1.2.2: only when the offer has it.
		return fmt.Errorf("parameter client_max_window_bits=%d was not offered by the client", a.ClientMaxWindowBits)
	case a.ClientMaxWindowBits != 0 && offer.ClientMaxWindowBits > 0 && a.ClientMaxWindowBits > offer.ClientMaxWindowBits:
		return fmt.Errorf("client_max_window_bits=%d is larger than the %d offered", a.ClientMaxWindowBits, offer.ClientMaxWindowBits)
	}
	return nil
}

// negotiate picks the first permessage-deflate offer in the request (the
// client's order of preference) and answers it with the server's own
// settings in cfg (section 7.1); nil when there is none. wscope
// compresses within any window, so every valid offer is accepted; offers
// with unknown or invalid parameters are declined, as section 7.1 says.
func negotiate(cfg *Compression, req []inspect.HeaderField) *Compression {
	xs, err := parseExtHeaders(req)
	if err != nil {
		return nil
	}
	for _, x := range xs {
		if x.name != wsflate.ExtensionName {
			continue
		}
		o, err := parseParams(x.params)
		if err != nil {
			continue
		}
		a := &Compression{
			ServerNoContextTakeover: o.ServerNoContextTakeover || cfg.ServerNoContextTakeover,
			ClientNoContextTakeover: o.ClientNoContextTakeover || cfg.ClientNoContextTakeover,
			// Section 7.1.2.1: the value asked for or a smaller one; a
			// server may name its window unasked.
			ServerMaxWindowBits: smallerWindow(o.ServerMaxWindowBits, cfg.ServerMaxWindowBits),
			Level:               cfg.Level,
		}
		// Section 7.1.2.2: the client's window only when the offer has
		// the parameter, at most its value.
		if o.ClientMaxWindowBits != 0 && cfg.ClientMaxWindowBits > 0 {
			a.ClientMaxWindowBits = smallerWindow(max(o.ClientMaxWindowBits, 0), cfg.ClientMaxWindowBits)
		}
		return a
	}
	return nil
}

// smallerWindow is the smaller of two window bits, 0 meaning no bound.
func smallerWindow(a, b int) int {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// ext is the agreed extension as the open event shows it.
func (c *Compression) ext() inspect.Extension {
	x := inspect.Extension{Name: wsflate.ExtensionName}
	if c.ServerNoContextTakeover {
		x.Params = append(x.Params, inspect.HeaderField{Name: "server_no_context_takeover"})
	}
	if c.ClientNoContextTakeover {
		x.Params = append(x.Params, inspect.HeaderField{Name: "client_no_context_takeover"})
	}
	if c.ServerMaxWindowBits > 0 {
		x.Params = append(x.Params, inspect.HeaderField{Name: "server_max_window_bits", Value: strconv.Itoa(c.ServerMaxWindowBits)})
	}
	if c.ClientMaxWindowBits > 0 {
		x.Params = append(x.Params, inspect.HeaderField{Name: "client_max_window_bits", Value: strconv.Itoa(c.ClientMaxWindowBits)})
	}
	return x
}

// setDeflate turns permessage-deflate on with the agreed parameters.
func (c *Conn) setDeflate(a *Compression) {
	if a == nil {
		return
	}
	serverKeeps, clientKeeps := !a.ServerNoContextTakeover, !a.ClientNoContextTakeover
	ours, theirs, window := clientKeeps, serverKeeps, a.ClientMaxWindowBits
	if c.role == inspect.RoleServer {
		ours, theirs, window = serverKeeps, clientKeeps, a.ServerMaxWindowBits
	}
	c.deflate = &inspect.Deflater{Takeover: ours, Level: a.Level, WindowBits: window}
	c.track.SetDeflate(c.rdir, theirs)
	c.track.SetDeflate(c.wdir, ours)
}

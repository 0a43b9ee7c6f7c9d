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
// to offer or accept, and, once negotiated, what was agreed.
type Compression struct {
	// ServerNoContextTakeover: the server resets its compressor after
	// every message.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compressor after
	// every message.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits bounds the server's LZ77 window (8..15); 0 means
	// not asked for.
	ServerMaxWindowBits int
	// ClientMaxWindowBits bounds the client's LZ77 window (8..15); 0 means
	// not asked for.
	ClientMaxWindowBits int
	// Level is the compress/flate level for what we send; 0 is the
	// default.
	Level int
}

// Check reports parameters that the side playing role cannot honour. Go's
// compress/flate always uses a 32 KiB window, so the window of the
// direction we compress can only be 15 bits.
func (c *Compression) Check(role inspect.Role) error {
	for _, b := range []struct {
		name string
		v    int
		ours bool
	}{
		{"server_max_window_bits", c.ServerMaxWindowBits, role == inspect.RoleServer},
		{"client_max_window_bits", c.ClientMaxWindowBits, role == inspect.RoleClient},
	} {
		switch {
		case b.v == 0:
		case b.v < 8 || b.v > 15:
			return fmt.Errorf("%s=%d: must be between 8 and 15", b.name, b.v)
		case b.ours && b.v != 15:
			return fmt.Errorf("%s=%d: this side compresses with Go's compress/flate, which always uses a 32 KiB window (15 bits)", b.name, b.v)
		}
	}
	if c.Level < -2 || c.Level > 9 {
		return fmt.Errorf("compression level %d: must be between -2 and 9", c.Level)
	}
	return nil
}

// offer is the client's Sec-WebSocket-Extensions offer.
func (c *Compression) offer() httphead.Option {
	return wsflate.Parameters{
		ServerNoContextTakeover: c.ServerNoContextTakeover,
		ClientNoContextTakeover: c.ClientNoContextTakeover,
		ServerMaxWindowBits:     wsflate.WindowBits(c.ServerMaxWindowBits),
		ClientMaxWindowBits:     wsflate.WindowBits(c.ClientMaxWindowBits),
	}.Option()
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
// client_max_window_bits without a value reads as -1.
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
			bits := -1
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
		c, err := parseParams(x.params)
		if err != nil {
			return nil, fmt.Errorf("server's %s: %v", x.name, err)
		}
		switch {
		case c.ServerMaxWindowBits != 0 && offer.ServerMaxWindowBits == 0:
			return nil, fmt.Errorf("server's %s: parameter server_max_window_bits=%d was not offered by the client", x.name, c.ServerMaxWindowBits)
		case c.ServerMaxWindowBits > offer.ServerMaxWindowBits:
			return nil, fmt.Errorf("server's %s: server_max_window_bits=%d is larger than the %d offered", x.name, c.ServerMaxWindowBits, offer.ServerMaxWindowBits)
		case c.ClientMaxWindowBits == -1:
			return nil, fmt.Errorf("server's %s: parameter client_max_window_bits needs a value in a response", x.name)
		case c.ClientMaxWindowBits != 0 && offer.ClientMaxWindowBits == 0:
			return nil, fmt.Errorf("server's %s: parameter client_max_window_bits=%d was not offered by the client", x.name, c.ClientMaxWindowBits)
		case c.ClientMaxWindowBits != 0 && c.ClientMaxWindowBits < 15:
			return nil, fmt.Errorf("server's %s: client_max_window_bits=%d asks for a window smaller than the 32 KiB Go's compress/flate always uses", x.name, c.ClientMaxWindowBits)
		}
		c.Level = offer.Level
		got = c
	}
	return got, nil
}

// negotiate picks the first permessage-deflate offer in the request that
// the server can honour (section 7.1), with the server's own settings in
// cfg, and returns the parameters of the response; nil when there is none.
// Offers with unknown or invalid parameters are declined, as section 7.1
// says.
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
		if o.ServerMaxWindowBits > 0 && o.ServerMaxWindowBits < 15 {
			continue // we cannot compress with a smaller window
		}
		a := &Compression{
			ServerNoContextTakeover: o.ServerNoContextTakeover || cfg.ServerNoContextTakeover,
			ClientNoContextTakeover: o.ClientNoContextTakeover || cfg.ClientNoContextTakeover,
			ServerMaxWindowBits:     o.ServerMaxWindowBits,
			Level:                   cfg.Level,
		}
		if o.ClientMaxWindowBits != 0 && cfg.ClientMaxWindowBits > 0 {
			a.ClientMaxWindowBits = cfg.ClientMaxWindowBits
			if o.ClientMaxWindowBits > 0 {
				a.ClientMaxWindowBits = min(a.ClientMaxWindowBits, o.ClientMaxWindowBits)
			}
		}
		return a
	}
	return nil
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
	ours, theirs := clientKeeps, serverKeeps
	if c.role == inspect.RoleServer {
		ours, theirs = serverKeeps, clientKeeps
	}
	c.deflate = &inspect.Deflater{Takeover: ours, Level: a.Level}
	c.track.SetDeflate(c.rdir, theirs)
	c.track.SetDeflate(c.wdir, ours)
}

package cmd

import (
	"github.com/spf13/pflag"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// compressOptions are the permessage-deflate (RFC 7692) flags of connect
// and listen.
type compressOptions struct {
	On                      bool
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int
	ClientMaxWindowBits     int
	Level                   int
}

func (o *compressOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.On, "compress", false, "offer (connect) or accept (listen) permessage-deflate (RFC 7692); the --compress-* flags imply it. wscope compresses within the window agreed: 15 bits with compress/flate, 8-14 with its own LZ77 encoder (fixed Huffman codes, context kept within the window)")
	fs.BoolVar(&o.ServerNoContextTakeover, "compress-server-no-context-takeover", false, "ask (connect) or make (listen) the server reset its compressor after every message")
	fs.BoolVar(&o.ClientNoContextTakeover, "compress-client-no-context-takeover", false, "make (connect) or ask (listen) the client reset its compressor after every message")
	fs.IntVar(&o.ServerMaxWindowBits, "compress-server-max-window-bits", 0, "connect: ask the server to compress within 2^`N` bytes (8-15); listen: compress within 2^N bytes and say so in every answer (within less when a client asks for less)")
	fs.IntVar(&o.ClientMaxWindowBits, "compress-client-max-window-bits", 0, "connect: offer client_max_window_bits=`N` (8-15) and compress within 2^N bytes or the smaller window the server answers (without it: offered with no value, the server's answer decides); listen: ask clients whose offer has client_max_window_bits for at most N")
	fs.IntVar(&o.Level, "compress-level", 0, "compress/flate `level` for what wscope sends within the 15-bit window: 1 (fastest) to 9 (best), -2 Huffman only (used for any window); 0 is the default level")
}

// prepare checks the flags for the side playing role and returns the
// parameters for the wire options; nil when compression is off.
func (o *compressOptions) prepare(role inspect.Role) (*wire.Compression, error) {
	if !o.On && !o.ServerNoContextTakeover && !o.ClientNoContextTakeover && o.ServerMaxWindowBits == 0 && o.ClientMaxWindowBits == 0 && o.Level == 0 {
		return nil, nil
	}
	cx := &wire.Compression{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
		Level:                   o.Level,
	}
	if o.ClientMaxWindowBits < 0 { // AnyWindowBits is the wire's, not a flag value
		return nil, usageErr("--compress: client_max_window_bits=%d: must be between 8 and 15", o.ClientMaxWindowBits)
	}
	if err := cx.Check(); err != nil {
		return nil, usageErr("--compress: %v", err)
	}
	if role == inspect.RoleClient && cx.ClientMaxWindowBits == 0 {
		cx.ClientMaxWindowBits = wire.AnyWindowBits
	}
	return cx, nil
}

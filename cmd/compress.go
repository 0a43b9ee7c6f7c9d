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
	fs.BoolVar(&o.On, "compress", false, "offer (connect) or accept (listen) permessage-deflate (RFC 7692); the --compress-* flags imply it")
	fs.BoolVar(&o.ServerNoContextTakeover, "compress-server-no-context-takeover", false, "ask (connect) or make (listen) the server reset its compressor after every message")
	fs.BoolVar(&o.ClientNoContextTakeover, "compress-client-no-context-takeover", false, "make (connect) or ask (listen) the client reset its compressor after every message")
	fs.IntVar(&o.ServerMaxWindowBits, "compress-server-max-window-bits", 0, "connect: ask the server for an LZ77 window of at most 2^`N` bytes (8-15); listen: only 15, as Go's flate always uses a 32 KiB window")
	fs.IntVar(&o.ClientMaxWindowBits, "compress-client-max-window-bits", 0, "listen: ask clients that allow it for an LZ77 window of at most 2^`N` bytes (8-15); connect: only 15, as Go's flate always uses a 32 KiB window")
	fs.IntVar(&o.Level, "compress-level", 0, "compress/flate `level` for what wscope sends: 1 (fastest) to 9 (best), -2 Huffman only; 0 is the default level")
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
	if err := cx.Check(role); err != nil {
		return nil, usageErr("--compress: %v", err)
	}
	return cx, nil
}

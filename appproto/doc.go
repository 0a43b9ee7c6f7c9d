// Package appproto holds what wscope's application protocol decoders
// share: the Decoder a connection's messages go through, the Protocol that
// says when a decoder applies, and the choice of one for a connection
// (Choose, Conn). Each protocol is a package below this one
// (appproto/socketio, graphql, mqtt, stomp, jsonrpc, signalr, phoenix,
// actioncable), and appproto/all lists them.
//
// Like inspect, everything here is pure: no sockets, no goroutines, no
// printing. A decoder reads bytes it is given and returns inspect.Decoded
// values; malformed input is a Decoded with Err set, never a panic, and
// what a decoder keeps between messages is bounded (MaxBuffer, MaxPending).
package appproto

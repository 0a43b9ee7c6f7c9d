// Package wire holds wscope's live connections on gobwas/ws: dialing and
// accepting (with the handshake kept as an event), the frame loop that
// reads every header before unmasking and reports every frame, message,
// violation and ending as an inspect.Event, and a send API that can write
// anything from a plain text message to a deliberately broken frame.
//
// wire never prints: what it sees goes to Config.OnEvent.
package wire

// Package record reads and writes wscope recordings, the NDJSON event
// files specified in docs/recording-format.md, and converts HAR files to
// and from them.
//
//   - Writer writes a recording: the header line, then one line per event,
//     each handed to the underlying writer in one Write call, credentials
//     redacted unless asked otherwise. Create opens a file for it.
//   - Reader reads one back as a stream, in constant memory, with errors
//     that name the line and a truncated last line reported as a warning.
//     Its events are reused from call to call; CloneEvent keeps one.
//   - HARReader (and ReadHAR) import the WebSocket connections of a HAR
//     file exported by Chrome or Firefox; HARWriter (CreateHAR, and
//     WriteHAR for a whole recording) exports events as HAR the way Chrome
//     does, each connection's entry at its end.
//   - Sniff tells a recording, a HAR file and a pcap capture apart.
//
// AppendEvent and AppendHeader write the format itself, one line each;
// WriteFile writes a list of events to a new file (the TUI's /save).
package record

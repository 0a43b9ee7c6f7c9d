// Package replay turns a recording into a test: it replays one recorded
// connection against a live server as the client (RunClient), or plays
// the recorded server for live clients (Serve), and compares what the
// other side sends with what the recording has.
//
// A Script is built from the events of one connection (NewScript): the
// handshake, the data messages both ways in order, the pings and pongs,
// and how the connection ended. Walking it from one side, each recorded
// message of that side is sent once the peer's messages recorded before it
// have come and been compared; then the close is checked: same code, sent
// by the same side.
//
// Messages are compared exactly by default (opcode and bytes). MatchOptions
// make the comparison JSON-semantic and remove paths (Path) on both sides;
// an expected message edited to hold markers ("#uuid", "#regex ...", see
// MarkerHelp) is compared as JSON with them. Captures carry values from
// received messages (a JSON path, or a field an application protocol
// decoder reads) into later sends ({{name}}).
//
// A Result lists every step and every Mismatch with a readable diff
// (per-path lines for JSON, a line diff for text, a hex dump for binary),
// and writes itself as text (WriteText) or as a JUnit XML report
// (WriteJUnit).
package replay

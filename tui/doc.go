// Package tui is wscope's terminal user interface: a Bubble Tea view of a
// stream of inspect.Events, live or read from a file, with a send box when
// the session is live.
//
// The package never touches a socket. Events come in on a channel, in
// batches; lines typed in the send box go out through a function the
// command layer supplies. Everything that can block (the network, the
// history file, /save) runs outside the Bubble Tea update loop.
//
// # Wiring it from a command
//
// connect, at a terminal:
//
//	feed := tui.NewFeed(0)
//	cfg.OnEvent = func(e *inspect.Event) {
//		snk.event(e) // --record still writes every event
//		feed.Add(e)  // copies e: it is only valid during the call
//	}
//	go func() {
//		// dial; on failure feed.Add an error event (Conn 1) so the
//		// status bar says why; on success feed.Add the open event,
//		// then conn.Run(); the end event arrives through OnEvent.
//		feed.Close() // when the connection is over
//	}()
//	res, err := tui.Run(ctx, tui.Options{
//		Title:       u.String(),
//		Live:        true,
//		Recording:   opts.Record,
//		HistoryFile: filepath.Join(xdgStateHome, "wscope", "history"), // "" for --no-history
//		Send: func(_ int, line string) error {
//			// the line mode's parser: parseSlash for "/...", "//x" is "/x"
//			a, err := parseLine(line)
//			if err != nil {
//				return err
//			}
//			if err := a.apply(conn); err != nil {
//				return err
//			}
//			return conn.Flush()
//		},
//	}, feed.Events())
//	conn.Close(res.Quit.CloseCode(), "") // 1000 for q, 1001 for Ctrl-C
//
// listen and proxy pass Multi: true and route Send by its conn argument
// (0: every client). inspect passes the events of the file (Live false,
// Send nil) and closes the feed at the end of the file.
//
// # Inside
//
// The Model is a root over panes, each with its own Update, View and
// SetSize: the frame list (list.go), the detail pane (detail.go), the send
// box (compose.go), the filter prompt (prompt.go), the help screen
// (helpscreen.go), the connection list (connlist.go), the status bar
// (statusbar.go) and the footer (footer.go). The root owns the layout,
// the rows kept and the filter; it gives Ctrl-C, esc and the keys that
// mean the same in the list and the detail (keys.go: one KeyMap, from
// which the footer and the help screen are drawn) their meaning, and
// routes every other key to what has the focus. A pane asks something of
// the root (move the focus, show a notice, run /save) through its outbox,
// which the root empties in the same update. The colours are in one style
// sheet (styles.go); the facts of a frame row are in inspect's line
// notation (inspect/line.go), as in `-o frames`.
//
// # Requests and answers
//
// A message whose decoded unit an application protocol decoder paired
// (inspect.Decoded.Corr and CorrRole: a Socket.IO ack, a JSON-RPC id, a
// GraphQL operation, an MQTT packet id, a STOMP receipt) takes part in a
// pair: its request, the parts between (a GraphQL next, an MQTT PUBREC)
// and its answer. The a key moves the selection to the next end of the
// selected message's pair (request, parts, answer, then the request
// again), in the message view and in the frame view (there, from any
// frame of the message to the first frame of the other end); the first
// paired unit of a message decides. The detail pane says where the other
// ends are in the list and how long before or after they came ("answer
// in row 5 (+12.3 ms)"). The pairs are found in an index (corr.go) from
// the connection and the correlation key to the message rows, in arrival
// order, kept as rows arrive and as the scrollback drops them: the key
// costs a map lookup, not a scan of the rows. A key used again (a
// JSON-RPC client that counts from 1 again, Engine.IO pings) starts a new
// pair at each request.
//
// # Starting at once
//
// The TUI is on Bubble Tea v2 (charm.land/bubbletea/v2). Nothing at
// start-up waits for the terminal: the first screen is drawn in the dark
// style sheet, Init asks for the background colour, and a light answer,
// whenever it comes, swaps in the light sheet; a terminal that never
// answers (script(1), some CI ptys) keeps the dark one. View returns a
// tea.View (the alternate screen and the mouse are its fields) over
// Screen, the text drawn, which the tests read. NO_COLOR gets
// PlainStyles. The command layer does not start the TUI on a terminal that
// cannot address the cursor (TERM=dumb): the line mode stands in.
//
// # Keeping up with a fast peer
//
// The model keeps each event as a compact row (about 72 bytes plus the
// payload, which a message of one frame shares with that frame), draws
// only the rows on screen, computes previews and the detail pane only for
// what is shown, and drops the oldest rows beyond Options.Scrollback and
// Options.MaxBytes, saying how many. A Feed batches events while the
// screen is drawn, so the batches grow with the load.
package tui

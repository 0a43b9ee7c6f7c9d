package session

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

// sink writes events to stdout in the chosen format. It is called from
// every connection's goroutines; it buffers and flushes when the input is
// drained, not per message.
type sink struct {
	mu  sync.Mutex
	out io.Writer // stdout, under w
	w   *bufio.Writer
	err io.Writer // diagnostics

	format      string
	recvDir     inspect.Direction // the peer's direction: what text mode prints (0: both)
	showConn    bool
	showDir     bool // text mode prints both directions: say which
	binaryAs    string
	showControl bool
	textDecoded bool   // text mode shows what a decoder read instead of the payload
	linePrefix  string // "< " in the interactive line mode
	prompt      string // "> " redrawn after each line in the line mode
	overPrompt  string // goes back over the prompt before a line
	buf         []byte

	filter   inspect.Filter // what stdout shows; recordings keep everything
	findings inspect.Findings
	lines    inspect.LineContext // -o frames: what each continuation continues

	json *record.Writer    // -o json: the recording on stdout
	har  *record.HARWriter // inspect -o har: a HAR on stdout, ended by close
	file recorder          // --record FILE
}

// recorder is what --record writes: a wscope recording or a HAR.
type recorder interface {
	Write(*inspect.Event) error
	Flush() error
	Close() error
}

// createRecording creates the --record file: a HAR when its name ends in
// .har (written whole, each connection's entry at its end), else a wscope
// recording (each event within record.DefaultMaxDelay).
func createRecording(path string, h inspect.RecordingHeader, opts record.WriterOptions) (recorder, error) {
	if strings.EqualFold(filepath.Ext(path), ".har") {
		return record.CreateHAR(path, h, opts)
	}
	return record.Create(path, h, opts)
}

func newSink(out, errOut io.Writer, format string, recv inspect.Direction) *sink {
	return &sink{
		out:     out,
		w:       bufio.NewWriterSize(out, ioBufferSize),
		err:     errOut,
		format:  format,
		recvDir: recv,
	}
}

// startRecording writes the recording header: on stdout in json mode,
// and to the --record file. Secrets are redacted as opts says.
func (s *sink) startRecording(path string, opts record.WriterOptions) error {
	return s.startRecordingAs(inspect.RecordingHeader{Version: Version}, path, opts)
}

// startRecordingWith starts json output with the header of a session read
// back (its source and lossiness kept), for inspect. Redaction already
// happened when it was recorded, or not, as the user chose then.
func (s *sink) startRecordingWith(h inspect.RecordingHeader) {
	h.Tool, h.Version = "wscope", Version
	s.startRecordingAs(h, "", record.WriterOptions{Secrets: true})
}

// Both recordings, the file and stdout, are batched the same way: events
// wait in the writer while more arrive, and are written at the latest
// record.DefaultMaxDelay later, at once when the connection is idle
// (flush).
func (s *sink) startRecordingAs(h inspect.RecordingHeader, path string, opts record.WriterOptions) error {
	opts.MaxDelay = record.DefaultMaxDelay
	if path != "" {
		f, err := createRecording(path, h, opts)
		if err != nil {
			return recordFileErr(err)
		}
		s.file = f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.format {
	case FormatJSON:
		s.w.Flush() // nothing of the text path may follow the recording
		w, err := record.NewWriter(s.out, h, opts)
		if err != nil {
			return Exitf(ExitRuntime, "writing the recording header: %v", err)
		}
		s.json = w
	case FormatHAR:
		w, err := record.NewHARWriter(s.w, h, opts)
		if err != nil {
			return Exitf(ExitRuntime, "writing the HAR: %v", err)
		}
		s.har = w
	}
	return nil
}

// close ends the HAR on stdout and finishes the recordings.
func (s *sink) close() {
	if s.har != nil {
		s.mu.Lock()
		if err := s.har.Close(); err != nil {
			fmt.Fprintf(s.err, "wscope: writing the HAR: %v\n", err)
		}
		s.mu.Unlock()
	}
	s.flush()
	if s.json != nil {
		s.json.Close()
	}
	if s.file == nil {
		return
	}
	if err := s.file.Close(); err != nil {
		fmt.Fprintf(s.err, "wscope: --record: %v\n", err)
	}
}

// event handles one event; safe for concurrent use.
func (s *sink) event(e *inspect.Event) {
	if s.file != nil {
		if err := s.file.Write(e); err != nil && e.Kind == inspect.KindOpen {
			s.note("wscope: --record: %v", err) // once per connection at most
		}
	}
	if !s.filter.Match(e) && e.Kind != inspect.KindEnd {
		if s.format == FormatFrames && e.Kind == inspect.KindFrame {
			s.mu.Lock()
			s.lines.See(e) // what later shown continuations continue
			s.mu.Unlock()
		}
		return
	}
	switch s.format {
	case FormatJSON:
		s.json.Write(e) // safe for concurrent use; stdout is only its
	case FormatHAR:
		s.mu.Lock()
		s.har.Write(e)
		s.mu.Unlock()
	case FormatFrames:
		lo := inspect.LineOptions{ShowConn: s.showConn, Context: &s.lines}
		s.mu.Lock()
		defer s.mu.Unlock()
		// A message's frames were shown; a message without (HAR) is shown
		// itself, and so is a deflated one: its frames hold only the
		// compressed bytes. What a decoder read in it follows.
		if e.Kind != inspect.KindMsg || len(e.Msg.Frames) == 0 || e.Msg.Deflated {
			s.buf = append(inspect.AppendLine(s.buf[:0], e, lo), '\n')
			s.w.Write(s.buf)
		}
		if e.Kind == inspect.KindMsg {
			for i := range e.Msg.Decoded {
				s.buf = append(inspect.AppendDecodedLine(s.buf[:0], e, &e.Msg.Decoded[i], lo), '\n')
				s.w.Write(s.buf)
			}
		}
	default:
		s.text(e)
	}
}

// opened handles a connection's open event in a server (listen, proxy):
// the handshake on stderr with -v, then the event to its observers.
func (s *sink) opened(ev *inspect.Event, observe func(*inspect.Event), verbose bool) {
	if verbose {
		s.handshake(ev.Open)
	}
	observe(ev)
}

// handshake writes the handshake on stderr the way curl -v does.
func (s *sink) handshake(o *inspect.Open) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	printHandshake(s.err, o)
}

// printHandshake writes the handshake the way curl -v does.
func printHandshake(w io.Writer, o *inspect.Open) {
	fmt.Fprintf(w, "> %s %s %s\n", o.Request.Method, o.Request.Target, o.Request.Proto)
	for _, h := range o.Request.Headers {
		fmt.Fprintf(w, "> %s: %s\n", h.Name, h.Value)
	}
	fmt.Fprintln(w, ">")
	printResponse(w, &o.Response)
	if o.Subprotocol != "" {
		fmt.Fprintf(w, "* subprotocol: %s\n", o.Subprotocol)
	}
	for _, x := range o.Extensions {
		fmt.Fprintf(w, "* extension: %s\n", formatExtension(x))
	}
	if o.TLS != nil {
		fmt.Fprintf(w, "* TLS: %s\n", o.TLS.Describe())
	}
}

func printResponse(w io.Writer, r *inspect.Response) {
	fmt.Fprintf(w, "< %s %d %s\n", r.Proto, r.Status, r.Reason)
	for _, h := range r.Headers {
		fmt.Fprintf(w, "< %s: %s\n", h.Name, h.Value)
	}
	fmt.Fprintln(w, "<")
}

func formatExtension(x inspect.Extension) string {
	s := x.Name
	for _, p := range x.Params {
		s += "; " + p.Name
		if p.Value != "" {
			s += "=" + p.Value
		}
	}
	return s
}

// text writes what text mode shows: received data messages, and control
// frames when asked. Peer violations are warned about on stderr.
func (s *sink) text(e *inspect.Event) {
	switch e.Kind {
	case inspect.KindMsg:
		if s.recvDir != 0 && e.Msg.Dir != s.recvDir {
			return
		}
		s.mu.Lock()
		b := s.prefix(s.buf[:0], e.Conn)
		if s.showDir {
			b = append(append(b, e.Msg.Dir.String()...), ' ')
		}
		if ds := e.Msg.Decoded; s.textDecoded && len(ds) > 0 {
			for i := range ds {
				if i > 0 {
					b = append(b, " | "...)
				}
				b = inspect.AppendSummary(b, ds[i].Summary)
			}
			s.buf = append(b, '\n')
		} else {
			switch p := e.Msg.Payload; {
			case e.Msg.Op != inspect.OpText && s.binaryAs != "raw":
				s.buf = append(s.appendEncoded(b, p), '\n')
			case len(p) >= 4<<10:
				// A large payload goes to the writer as it is, not copied
				// into the line first: for 1 MiB messages that copy was a
				// third of the output's cost. (A small one is cheaper
				// copied than written apart.)
				s.w.Write(b)
				s.w.Write(p)
				s.buf = append(b[:0], '\n')
			default:
				s.buf = append(append(b, p...), '\n')
			}
		}
		s.endLine()
		s.mu.Unlock()
		if vs := s.violationsOf(e); len(vs) > 0 {
			s.warn(e.Conn, vs, "message")
		}
	case inspect.KindFrame:
		f := e.Frame
		if s.recvDir != 0 && f.Dir != s.recvDir {
			return
		}
		if vs := s.violationsOf(e); len(vs) > 0 {
			s.warn(e.Conn, vs, "frame "+strconv.FormatUint(f.Seq, 10))
		}
		if !s.showControl || !f.Op.IsControl() {
			return
		}
		s.mu.Lock()
		b := s.prefix(s.buf[:0], e.Conn)
		if s.showDir {
			b = append(append(b, f.Dir.String()...), ' ')
		}
		b = append(b, '[')
		b = append(b, f.Op.String()...)
		b = append(b, ']')
		switch {
		case f.Close != nil:
			b = inspect.AppendCloseText(append(b, ' '), f.Close.Code, f.Close.Reason)
		case len(f.Payload) > 0:
			b = append(b, ' ')
			b = append(b, inspect.TextView(f.Payload)...)
		}
		s.buf = append(b, '\n')
		s.endLine()
		s.mu.Unlock()
	}
}

// endLine writes s.buf, and in the line mode redraws the prompt at once.
func (s *sink) endLine() {
	s.w.Write(s.buf)
	if s.prompt != "" {
		s.w.WriteString(s.prompt)
		s.w.Flush()
	}
}

func (s *sink) prefix(b []byte, conn int) []byte {
	if s.prompt != "" {
		b = append(b, s.overPrompt...)
	}
	b = append(b, s.linePrefix...)
	if s.showConn {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(conn), 10)
		b = append(b, "] "...)
	}
	return b
}

// appendEncoded appends a binary payload as --binary-as says (raw is
// written as it is).
func (s *sink) appendEncoded(b []byte, p []byte) []byte {
	if s.binaryAs == "hex" {
		return hex.AppendEncode(b, p)
	}
	return base64.StdEncoding.AppendEncode(b, p)
}

// violationsOf returns the violations e adds, each counted once.
func (s *sink) violationsOf(e *inspect.Event) []inspect.Violation {
	if (e.Frame == nil || len(e.Frame.Violations) == 0) && (e.Msg == nil || len(e.Msg.Violations) == 0) {
		return nil // the common case: nothing to count, no lock
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.findings.Of(e))
}

func (s *sink) warn(conn int, vs []inspect.Violation, where string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		if s.showConn {
			fmt.Fprintf(s.err, "wscope: [%d] %s: %s\n", conn, where, v)
		} else {
			fmt.Fprintf(s.err, "wscope: %s: %s\n", where, v)
		}
	}
}

// note writes a diagnostic line on stderr, after flushing stdout so the
// two stay in order at a terminal.
func (s *sink) note(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	fmt.Fprintf(s.err, format+"\n", args...)
}

// flush writes out what is buffered: the connection is idle, or ends.
// The --record file first: what stdout shows is in the recording already
// (a SIGKILL right after loses none of it).
func (s *sink) flush() {
	if s.file != nil {
		s.file.Flush()
	}
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
}

// flushLocked writes stdout's buffers, the recording's first, so that
// what was written stays in order; s.mu is held.
func (s *sink) flushLocked() {
	if s.json != nil {
		s.json.Flush()
	}
	s.w.Flush()
}

// raw writes pre-formatted bytes (the line mode's prompt) at once.
func (s *sink) raw(p string) {
	s.mu.Lock()
	s.flushLocked()
	s.w.WriteString(p)
	s.w.Flush()
	s.mu.Unlock()
}

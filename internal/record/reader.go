package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"time"

	"github.com/wscope/wscope/inspect"
)

// DefaultMaxLineSize bounds one line of a recording: MaxLineSize of the
// default message limit of connect, listen, proxy and inspect (64 MiB),
// so that what they record reads back.
const DefaultMaxLineSize = 2*(64<<20) + lineOverhead

// lineOverhead is the room a line takes besides its payload: the event's
// other keys, a close reason, violations. The open event, which has no
// payload, is bounded by the handshake heads (64 KiB each when live).
const lineOverhead = 1 << 20

// MaxLineSize is the longest line a recording of messages of at most
// maxMessage bytes needs: a frame or msg line holds one payload, which
// takes 4/3 of its size in base64 and, as text, more only with many JSON
// escapes; twice the size covers both, and lineOverhead the rest of the
// event. maxMessage <= 0 (no limit) gives no limit either.
func MaxLineSize(maxMessage int64) int {
	if maxMessage <= 0 || maxMessage > (math.MaxInt-lineOverhead)/2 {
		return math.MaxInt - 1
	}
	return int(2*maxMessage) + lineOverhead
}

// LineTooLongError is a line longer than the reader's limit. The reader
// skipped it, holding no more of it than the limit, and goes on with the
// next line.
type LineTooLongError struct {
	Limit int
}

func (e *LineTooLongError) Error() string {
	if e.Limit >= 1<<20 {
		return fmt.Sprintf("longer than %d bytes (%.1f MiB): skipped", e.Limit, float64(e.Limit)/(1<<20))
	}
	return fmt.Sprintf("longer than %d bytes: skipped", e.Limit)
}

// readBufferSize is the read buffer: lines that fit are decoded in place,
// without a copy.
const readBufferSize = 256 << 10

// LineError is a line of a recording that could not be read. Line counts
// from 1, the header.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// VersionError is a recording written in a major version of the format
// this package does not know.
type VersionError struct {
	Version string // as written in the header, e.g. "2"
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("recording format version %s is newer than this wscope understands (%d)", e.Version, FormatVersion)
}

// Reader reads a recording one event at a time, in constant memory: its
// buffers grow to the longest line read, never to the file.
//
// The *inspect.Event returned by Next, and everything it points to, is
// valid until the next call to Next: the reader reuses them. Use
// CloneEvent to keep one.
//
// A line that cannot be read is reported by Next as a *LineError; Next may
// be called again to continue with the following line. Read errors from
// the underlying reader are final. An unterminated last line that is not
// valid JSON (a writer killed mid-line) is not an error: Next returns
// io.EOF and Warnings says what was dropped.
type Reader struct {
	br       *bufio.Reader
	max      int
	line     int
	long     []byte   // a line longer than the read buffer, joined
	parts    [][]byte // its pieces while it is read
	hdr      inspect.RecordingHeader
	warnings []string
	skipped  int
	err      error

	sc      scanner
	ev      inspect.Event
	frame   inspect.Frame
	msg     inspect.Message
	end     inspect.End
	close   inspect.Close
	raw     [inspect.MaxHeaderSize]byte
	payload []byte
	frames  []uint64
	viols   []inspect.Violation
	scratch []byte
	keybuf  []byte
	evAt    int // where findKind read "ev"'s value, and where it ended
	evEnd   int

	inMsg bool   // the frame just decoded has "payload":"msg"
	ahead *ahead // the line after such a frame, read to fill it in
}

// ahead is the outcome of reading the line after a frame whose payload
// is its msg event's, returned by the following Next.
type ahead struct {
	ev  inspect.Event
	err error
}

// NewReader reads and checks the header line of a recording. It refuses a
// recording of a newer major version with a *VersionError, and input whose
// first line is not a recording header with an error saying what it looks
// like instead.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, readBufferSize), max: DefaultMaxLineSize}
	line, _, err := rd.readLine()
	rd.line = 1
	switch {
	case err == io.EOF:
		return nil, errors.New("not a wscope recording: the input is empty")
	case err != nil:
		var le *LineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("not a wscope recording: %w", err)
		}
		return nil, err
	}
	line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a BOM added by an editor
	if err := rd.header(line); err != nil {
		var ve *VersionError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, fmt.Errorf("not a wscope recording: line 1: %w", err)
	}
	return rd, nil
}

// SetMaxLineSize changes the longest line the reader accepts (default
// DefaultMaxLineSize; MaxLineSize gives the one for a message limit). A
// longer line is a *LineError wrapping a *LineTooLongError, and reading
// goes on with the next line.
func (r *Reader) SetMaxLineSize(n int) { r.max = n }

// Header returns the recording's header line.
func (r *Reader) Header() inspect.RecordingHeader { return r.hdr }

// Line returns the number of the line last read (1 is the header).
func (r *Reader) Line() int { return r.line }

// Warnings returns what the reader passed over without failing: so far,
// only a truncated last line.
func (r *Reader) Warnings() []string { return r.warnings }

// Skipped returns the number of lines ignored because their event kind is
// unknown to this version (a newer minor version of the format).
func (r *Reader) Skipped() int { return r.skipped }

// All returns the events as an iterator; it stops after the first error,
// which it yields. Events are valid until the iteration continues.
func (r *Reader) All() iter.Seq2[*inspect.Event, error] {
	return func(yield func(*inspect.Event, error) bool) {
		for {
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// Next returns the next event, or io.EOF after the last one.
//
// A frame line with "payload":"msg" (the writer leaves out the payload of
// a message in one frame, which its msg line right after carries) gets
// its payload from that line, which Next reads ahead and returns next
// time (Line is then already that line's number); without it the frame
// reads as truncated.
func (r *Reader) Next() (*inspect.Event, error) {
	if a := r.ahead; a != nil {
		r.ahead = nil
		if a.err != nil {
			return nil, a.err
		}
		r.ev = a.ev
		return &r.ev, nil
	}
	e, err := r.nextLine()
	if err != nil || e.Kind != inspect.KindFrame || !r.inMsg {
		return e, err
	}
	frame := r.ev
	m, err := r.nextLine()
	r.ahead = &ahead{err: err}
	if err == nil {
		r.ahead.ev = *m
		if m.Kind == inspect.KindMsg && m.Conn == frame.Conn && len(m.Msg.Frames) == 1 && m.Msg.Frames[0] == r.frame.Seq && m.Msg.Dir == r.frame.Dir &&
			uint64(len(m.Msg.Payload)) == r.frame.Length {
			r.frame.Payload = m.Msg.Payload // valid as long as the msg is
		}
	}
	r.ev = frame
	return &r.ev, nil
}

// nextLine reads the next event line.
func (r *Reader) nextLine() (*inspect.Event, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		line, nl, err := r.readLine()
		if err == io.EOF {
			r.err = io.EOF
			return nil, io.EOF
		}
		r.line++
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				le.Line = r.line
				return nil, le
			}
			r.err = err
			return nil, err
		}
		if isBlank(line) {
			continue
		}
		e, skip, err := r.decode(line)
		if err != nil {
			var se *syntaxError
			if !nl && errors.As(err, &se) {
				r.warnings = append(r.warnings, fmt.Sprintf("line %d: truncated last line (%d bytes without a newline) ignored", r.line, len(line)))
				r.err = io.EOF
				return nil, io.EOF
			}
			return nil, &LineError{Line: r.line, Err: r.describe(line, err)}
		}
		if skip {
			r.skipped++
			continue
		}
		return e, nil
	}
}

// describe turns a syntax error into encoding/json's wording, which
// people know, with the column.
func (r *Reader) describe(line []byte, err error) error {
	var se *syntaxError
	if !errors.As(err, &se) {
		return err
	}
	msg := se.msg
	var raw json.RawMessage
	if jerr := json.Unmarshal(line, &raw); jerr != nil {
		msg = jerr.Error()
	}
	return fmt.Errorf("invalid JSON: %s (column %d)", msg, se.off+1)
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// readLine returns the next line without its newline; nl reports that
// there was one. A line over the limit is skipped whole and reported as a
// *LineError (without its line number, which the caller sets).
//
// A line longer than the read buffer is kept in pieces as it is read and
// joined once at its end: the memory it takes is its length (twice, at
// the join), and no more than the limit for one that turns out too long,
// however long it is. (A buffer grown by append would copy itself at each
// growth, and leave the garbage collector several times the limit.)
func (r *Reader) readLine() (line []byte, nl bool, err error) {
	if cap(r.long) > maxKeptLine {
		r.long = nil
	}
	r.long = r.long[:0]
	r.parts = r.parts[:0]
	held := 0
	for {
		frag, err := r.br.ReadSlice('\n')
		if held+len(frag) > r.max+1 { // +1: the newline is not the line's
			return nil, false, r.discardLine(err)
		}
		switch {
		case err == bufio.ErrBufferFull:
			// What fits in the buffer of earlier lines goes there; the
			// rest in pieces of its own.
			if len(r.parts) == 0 && len(r.long)+len(frag) <= cap(r.long) {
				r.long = append(r.long, frag...)
			} else {
				r.parts = append(r.parts, append([]byte(nil), frag...))
			}
			held += len(frag)
			continue
		case err == io.EOF && held == 0 && len(frag) == 0:
			return nil, false, io.EOF
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		nl = err == nil
		switch {
		case held == 0:
		case len(r.parts) == 0 && len(r.long)+len(frag) <= cap(r.long):
			frag = append(r.long, frag...)
		default:
			joined := make([]byte, 0, held+len(frag))
			joined = append(joined, r.long...)
			for i, p := range r.parts {
				joined = append(joined, p...)
				r.parts[i] = nil
			}
			frag = append(joined, frag...)
			r.long = joined
		}
		if nl {
			frag = frag[:len(frag)-1]
		}
		return frag, nl, nil
	}
}

// maxKeptLine is the largest joined line whose buffer is kept for the
// next one, so that one huge line does not pin its size.
const maxKeptLine = 4 << 20

// discardLine skips the rest of a line that is too long.
func (r *Reader) discardLine(err error) error {
	r.long = r.long[:0]
	for i := range r.parts {
		r.parts[i] = nil
	}
	r.parts = r.parts[:0]
	for err == bufio.ErrBufferFull {
		_, err = r.br.ReadSlice('\n')
	}
	if err != nil && err != io.EOF {
		return err
	}
	return &LineError{Err: &LineTooLongError{Limit: r.max}}
}

// header reads the header line.
func (r *Reader) header(line []byte) error {
	sc := &r.sc
	sc.b, sc.i = line, 0
	if ok, err := sc.open('{'); !ok {
		if err == nil || err == errWrongType {
			if err := sc.end(); err != nil {
				return r.describe(line, err)
			}
			return errors.New("the first line is not a JSON object")
		}
		return r.describe(line, err)
	}
	var (
		version    []byte
		ev         string
		har        bool
		h          inspect.RecordingHeader
		hasCreated bool
	)
	n := 0
	for {
		key, esc, more, err := sc.member(&n)
		if err != nil {
			return r.describe(line, err)
		}
		if !more {
			break
		}
		switch string(r.key(key, esc)) {
		case "wsrec":
			if version, _, err = r.getNumber("wsrec", "a number"); err != nil {
				return r.describe(line, err)
			}
		case "created":
			s, ok, err := r.getString("created")
			if err != nil {
				return r.describe(line, err)
			}
			if ok {
				if h.Created, err = time.Parse(time.RFC3339Nano, s); err != nil {
					return fmt.Errorf(`"created": %q is not an RFC 3339 time`, s)
				}
				hasCreated = true
			}
		case "tool":
			ok, err := sc.open('{')
			if err != nil {
				return r.describe(line, wantErr(err, "tool", "an object"))
			}
			m := 0
			for ok {
				key, esc, more, err := sc.member(&m)
				if err != nil {
					return r.describe(line, err)
				}
				if !more {
					break
				}
				switch string(r.key(key, esc)) {
				case "name":
					h.Tool, _, err = r.getString("tool.name")
				case "version":
					h.Version, _, err = r.getString("tool.version")
				default:
					err = sc.skip()
				}
				if err != nil {
					return r.describe(line, err)
				}
			}
		case "source":
			if h.Source, _, err = r.getString("source"); err != nil {
				return r.describe(line, err)
			}
		case "lossy":
			if h.Lossy, _, err = r.getBool("lossy"); err != nil {
				return r.describe(line, err)
			}
		case "redacted":
			if h.Redacted, err = r.getStrings("redacted"); err != nil {
				return r.describe(line, err)
			}
		case "ev":
			if ev, _, err = r.getString("ev"); err != nil {
				return r.describe(line, err)
			}
		case "log":
			har = true
			err = sc.skip()
		default:
			err = sc.skip()
		}
		if err != nil {
			return r.describe(line, err)
		}
	}
	if err := sc.end(); err != nil {
		return r.describe(line, err)
	}
	switch {
	case version == nil && ev != "":
		return fmt.Errorf(`the first line is a %q event, not the {"wsrec":%d,...} header`, ev, FormatVersion)
	case version == nil && har:
		return errors.New(`this looks like a HAR file, not a recording`)
	case version == nil:
		return fmt.Errorf(`the first line has no "wsrec" key: it is not the {"wsrec":%d,...} header`, FormatVersion)
	}
	major, ok := majorVersion(version)
	switch {
	case !ok:
		return fmt.Errorf(`"wsrec": %s is not a format version`, version)
	case major > FormatVersion:
		return &VersionError{Version: string(version)}
	case major < 1:
		return fmt.Errorf(`"wsrec": %s is not a format version`, version)
	}
	if !hasCreated {
		h.Created = time.Time{}
	}
	r.hdr = h
	return nil
}

// majorVersion reads the integer part of a version number: 1 and 1.2 are
// both major version 1.
func majorVersion(text []byte) (int, bool) {
	if i := bytes.IndexAny(text, ".eE"); i >= 0 {
		if bytes.ContainsAny(text, "eE") {
			f, err := strconv.ParseFloat(string(text), 64)
			if err != nil || f >= 1<<31 || f < 0 {
				return 0, false
			}
			return int(f), true
		}
		text = text[:i]
	}
	n, ok := parseInt(text)
	if !ok || n >= 1<<31 {
		return 0, false
	}
	return int(n), true
}

package record

import (
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
)

// WriterOptions configures a Writer.
type WriterOptions struct {
	// Secrets keeps everything in open events. Without it the secrets
	// of inspect.NewRedaction(Redact) are replaced by inspect.Redacted,
	// and the header line lists what is redacted under "redacted".
	Secrets bool
	// Redact names more headers and query parameters to redact.
	Redact []string
	// Force lets Create replace an existing file.
	Force bool
	// MaxDelay lets events wait in the Writer to be written together:
	// Write returns at once, and what waits goes to the underlying writer
	// in one Write call once BatchSize bytes wait, on Flush, or at the
	// latest MaxDelay after the first of them. Zero: every event is
	// written before Write returns.
	MaxDelay time.Duration
}

// DefaultMaxDelay is the MaxDelay of --record and -o json: a process
// killed with SIGKILL loses at most the events of the last 10 ms.
const DefaultMaxDelay = 10 * time.Millisecond

// BatchSize is how much a batching Writer lets wait before it writes.
const BatchSize = 256 << 10

// Writer writes a recording: the header line, then one line per event.
// Lines reach the underlying writer whole, one or more per Write call,
// so over an *os.File a process killed with SIGKILL leaves every complete
// line readable: without MaxDelay every event is in the kernel once Write
// returns; with it, every event is there within MaxDelay.
//
// A Writer is safe for concurrent use. After the first failed write every
// later call returns the same error (a batched write's error comes back
// from the next Write, Flush or Close).
type Writer struct {
	mu      sync.Mutex // guards the fields up to wmu
	w       io.Writer
	file    *os.File // set by Create: Close closes it
	redacts *inspect.Redaction
	hdr     inspect.RecordingHeader
	delay   time.Duration
	timer   *time.Timer // writes what waits, MaxDelay after it began to
	armed   bool
	pend    []byte // lines waiting
	err     error

	// held is a frame that is a whole message, not yet written: when its
	// msg event comes next, the frame line leaves out the payload the msg
	// line carries ("payload":"msg"). Its payload is a copy.
	held        inspect.Event
	heldFrame   inspect.Frame
	heldPayload []byte
	holding     bool

	wmu   sync.Mutex // one write at a time, in the order taken from pend
	spare []byte     // the buffer last written, reused as pend
}

// maxKeptBuffer is the largest line buffer kept between writes, so that
// one huge message does not pin its size for the rest of a session.
const maxKeptBuffer = 4 << 20

// NewWriter writes the header line h to w and returns a Writer for the
// events. Zero fields of h get defaults: Created now, Tool "wscope",
// Source "live". Unless opts.Secrets, h.Redacted is set to what Write
// then redacts.
func NewWriter(w io.Writer, h inspect.RecordingHeader, opts WriterOptions) (*Writer, error) {
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	if h.Tool == "" {
		h.Tool = "wscope"
	}
	if h.Source == "" {
		h.Source = "live"
	}
	var redact *inspect.Redaction
	if !opts.Secrets {
		redact = inspect.NewRedaction(opts.Redact)
		h.Redacted = redact.Names()
	}
	wr := &Writer{w: w, redacts: redact, hdr: h, delay: opts.MaxDelay}
	wr.pend = append(AppendHeader(wr.pend, h), '\n')
	if err := wr.write(); err != nil {
		return nil, err
	}
	if wr.delay > 0 {
		wr.timer = time.AfterFunc(time.Hour, wr.timeUp)
		wr.timer.Stop()
	}
	return wr, nil
}

// Create creates the file at path and writes the header line to it.
// Close the Writer to close the file. An existing path is refused with an
// *ExistsError unless opts.Force, and a symbolic link is never followed:
// with Force an existing file or link is replaced by a new file, what a
// link points to is left alone (see createFile).
func Create(path string, h inspect.RecordingHeader, opts WriterOptions) (*Writer, error) {
	f, err := createFile(path, opts.Force)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, h, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.file = f
	return w, nil
}

// Header returns the header line as written, defaults filled in.
func (w *Writer) Header() inspect.RecordingHeader { return w.hdr }

// Write appends e as one line. Open events are redacted unless the Writer
// keeps secrets; e itself is never modified.
func (w *Writer) Write(e *inspect.Event) error {
	e = w.redacts.Event(e) // nil keeps secrets
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	w.appendEvent(e)
	full := (w.delay == 0 || len(w.pend) >= BatchSize) && !w.holding
	if !full && !w.armed {
		w.armed = true
		w.timer.Reset(w.delay)
	}
	w.mu.Unlock()
	if full {
		return w.write()
	}
	return nil
}

// appendEvent adds e's line to pend. A batching Writer holds a frame that
// is a whole message until the next event says whether its msg follows
// (the next Write, or the write of the batch). w.mu is held.
func (w *Writer) appendEvent(e *inspect.Event) {
	if w.holding {
		inMsg := e.Kind == inspect.KindMsg && e.Msg != nil && e.Conn == w.held.Conn && sameMessage(&w.heldFrame, e.Msg)
		w.unhold(inMsg)
		if inMsg {
			w.pend = append(AppendEvent(w.pend, e), '\n')
			return
		}
	}
	if w.delay > 0 && e.Kind == inspect.KindFrame && e.Frame != nil && wholeMessage(e.Frame) {
		w.held, w.heldFrame = *e, *e.Frame
		w.heldPayload = append(w.heldPayload[:0], e.Frame.Payload...)
		w.heldFrame.Payload = w.heldPayload
		w.held.Frame = &w.heldFrame
		w.holding = true
		return
	}
	w.pend = append(AppendEvent(w.pend, e), '\n')
}

// appendHeld writes the held frame, its payload or "payload":"msg".
func (w *Writer) appendHeld(b []byte, inMsg bool) []byte {
	e := &w.held
	b = append(b, `{"t":`...)
	b = appendSeconds(b, e.T)
	b = append(b, `,"ev":"frame","conn":`...)
	b = strconv.AppendInt(b, int64(e.Conn), 10)
	return append(appendFrameAs(b, &w.heldFrame, inMsg), '}')
}

// unhold adds the held frame's line to pend.
func (w *Writer) unhold(inMsg bool) {
	w.holding = false
	w.pend = append(w.appendHeld(w.pend, inMsg), '\n')
	if cap(w.heldPayload) > maxKeptBuffer {
		w.heldPayload = nil
	}
	w.heldFrame.Payload = nil
}

// release adds a held frame to pend as it is: no msg came next in time.
func (w *Writer) release() {
	if w.holding {
		w.unhold(false)
	}
}

// timeUp writes what has waited MaxDelay.
func (w *Writer) timeUp() {
	w.mu.Lock()
	w.armed = false
	w.release()
	w.mu.Unlock()
	w.write()
}

// write hands what waits to the underlying writer in one call, outside
// w.mu so that events go on being encoded meanwhile.
func (w *Writer) write() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.mu.Lock()
	w.release()
	buf, err := w.pend, w.err
	w.pend = w.spare[:0]
	w.mu.Unlock()
	if err == nil && len(buf) > 0 {
		var n int
		n, err = w.w.Write(buf)
		if err == nil && n < len(buf) {
			err = io.ErrShortWrite
		}
	}
	if cap(buf) > maxKeptBuffer {
		buf = nil
	}
	w.spare = buf
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		err = w.err
		w.mu.Unlock()
	}
	return err
}

// Flush writes what waits, and flushes the underlying writer when it
// buffers (it has a Flush() error method, as *bufio.Writer does).
func (w *Writer) Flush() error {
	if err := w.write(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flush()
}

func (w *Writer) flush() error {
	if w.err != nil {
		return w.err
	}
	if f, ok := w.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// Close writes what waits, flushes, and closes the file when the Writer
// came from Create. Later writes fail.
func (w *Writer) Close() error {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.write()
	w.wmu.Lock() // no write in flight when the file closes
	defer w.wmu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.flush()
	if w.file != nil {
		if cerr := w.file.Close(); err == nil {
			err = cerr
		}
		w.file = nil
	}
	if w.err == nil {
		w.err = errClosed
	}
	if err == errClosed {
		err = nil
	}
	return err
}

var errClosed = errors.New("record: write to a closed recording")

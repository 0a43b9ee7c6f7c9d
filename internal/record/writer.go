package record

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
)

// WriterOptions configures a Writer.
type WriterOptions struct {
	// Secrets keeps credential headers (inspect.CredentialHeaders) in
	// open events. Without it their values are replaced by
	// inspect.Redacted, and the header line lists them under "redacted".
	Secrets bool
}

// Writer writes a recording: the header line, then one line per event.
// Each line reaches the underlying writer in exactly one Write call, so
// over an *os.File every event is in the kernel once Write returns and a
// process killed with SIGKILL leaves every complete line readable. Give it
// a *bufio.Writer to batch instead, and call Flush.
//
// A Writer is safe for concurrent use. After the first failed write every
// later one returns the same error.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	file    *os.File // set by Create: Close closes it
	secrets bool
	hdr     inspect.RecordingHeader
	buf     []byte
	err     error
}

// maxKeptBuffer is the largest line buffer kept between events, so that
// one huge message does not pin its size for the rest of a session.
const maxKeptBuffer = 4 << 20

// NewWriter writes the header line h to w and returns a Writer for the
// events. Zero fields of h get defaults: Created now, Tool "wscope",
// Source "live". Unless opts.Secrets, h.Redacted is set to the credential
// headers, which Write then redacts.
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
	if !opts.Secrets {
		h.Redacted = append([]string(nil), inspect.CredentialHeaders...)
	}
	wr := &Writer{w: w, secrets: opts.Secrets, hdr: h}
	wr.buf = append(AppendHeader(wr.buf, h), '\n')
	if err := wr.write(); err != nil {
		return nil, err
	}
	return wr, nil
}

// Create creates (or truncates) the file at path and writes the header
// line to it. Close the Writer to close the file.
func Create(path string, h inspect.RecordingHeader, opts WriterOptions) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
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
	if e.Kind == inspect.KindOpen && e.Open != nil && !w.secrets {
		e = redact(e)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = append(AppendEvent(w.buf[:0], e), '\n')
	err := w.write()
	if cap(w.buf) > maxKeptBuffer {
		w.buf = nil
	}
	return err
}

// write hands w.buf to the underlying writer in one call.
func (w *Writer) write() error {
	n, err := w.w.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}

// Flush flushes the underlying writer when it buffers (it has a Flush()
// error method, as *bufio.Writer does).
func (w *Writer) Flush() error {
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

// Close flushes, and closes the file when the Writer came from Create.
// Later writes fail.
func (w *Writer) Close() error {
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

// redact returns a copy of an open event with credential values replaced;
// it returns e itself when there is nothing to replace.
func redact(e *inspect.Event) *inspect.Event {
	req, n1 := inspect.RedactHeaders(e.Open.Request.Headers)
	resp, n2 := inspect.RedactHeaders(e.Open.Response.Headers)
	if n1 == nil && n2 == nil {
		return e
	}
	o := *e.Open
	o.Request.Headers, o.Response.Headers = req, resp
	c := *e
	c.Open = &o
	return &c
}

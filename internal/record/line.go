package record

import (
	"errors"

	"github.com/wscope/wscope/inspect"
)

// LineDecoder reads recording lines one at a time, outside a file: the
// send language's --stdin json takes a recording piped back in through
// it. Like a Reader's, its events are valid until the next call.
type LineDecoder struct{ r Reader }

// NewLineDecoder returns a decoder of single lines.
func NewLineDecoder() *LineDecoder { return &LineDecoder{r: Reader{max: DefaultMaxLineSize}} }

// LineType is what a JSON line is to the format.
type LineType int

const (
	NotRecording LineType = iota // an object with neither "ev" nor "wsrec"
	HeaderLine                   // {"wsrec":...}
	EventLine                    // an event; its Kind is 0 when this version does not know it
)

// Kind reads only as far as the line's "ev" (the writer puts it second),
// so lines of the kinds a caller passes over cost little. A line that is
// not a JSON object is an error.
func (d *LineDecoder) Kind(line []byte) (inspect.Kind, LineType, error) {
	k, _, err := d.r.findKind(line)
	switch {
	case errors.Is(err, errHeaderLine):
		return 0, HeaderLine, nil
	case errors.Is(err, errNoKind):
		return 0, NotRecording, nil
	case err != nil:
		return 0, 0, d.r.describe(line, err)
	}
	return k, EventLine, nil
}

// Decode reads an event line as a Reader reads it from a file, with the
// same errors. It returns nil and no error for an event kind this
// version does not know.
func (d *LineDecoder) Decode(line []byte) (*inspect.Event, error) {
	e, skip, err := d.r.decode(line)
	switch {
	case err != nil:
		return nil, d.r.describe(line, err)
	case skip:
		return nil, nil
	}
	return e, nil
}

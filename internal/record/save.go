package record

import (
	"bufio"
	"errors"
	"io/fs"
	"os"

	"github.com/wscope/wscope/inspect"
)

// SaveEvents writes events to a new file at path as a recording, through
// a Writer (so credentials are redacted unless opts.Secrets): the TUI's
// /save. It never overwrites a file, nor writes through a symlink at path
// (O_EXCL refuses both): the file a --record is writing could be that one.
func SaveEvents(path string, h inspect.RecordingHeader, events []*inspect.Event, opts WriterOptions) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return errors.New(path + " exists; /save does not overwrite")
	}
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	w, err := NewWriter(bw, h, opts)
	for i := 0; err == nil && i < len(events); i++ {
		err = w.Write(events[i])
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

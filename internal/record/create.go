package record

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wscope/wscope/inspect"
)

// WriteFile writes events as a recording to a new file at path, created
// as Create does (opts.Force says whether an existing one is replaced),
// through a buffer: for a recording written at once, not as it happens.
func WriteFile(path string, h inspect.RecordingHeader, opts WriterOptions, events []*inspect.Event) error {
	f, err := createFile(path, opts.Force)
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

// ExistsError is a recording path that exists and was not to be
// replaced.
type ExistsError struct {
	Path string
	Link bool // it is a symbolic link
}

func (e *ExistsError) Error() string {
	if e.Link {
		return e.Path + " is a symbolic link"
	}
	return e.Path + " exists"
}

// Unwrap makes errors.Is(err, fs.ErrExist) true.
func (e *ExistsError) Unwrap() error { return fs.ErrExist }

// createFile creates a new file at path, never through a symbolic link:
// O_EXCL fails on a link even to nothing (POSIX open). An existing path is
// an *ExistsError unless force; then a regular file or a link is replaced
// by a new file renamed over it, which replaces the link itself and
// leaves what it points to alone. A directory, a device or a pipe is
// never replaced.
func createFile(path string, force bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if !errors.Is(err, fs.ErrExist) {
		return f, err
	}
	fi, lerr := os.Lstat(path)
	if lerr != nil {
		return nil, err
	}
	link := fi.Mode()&fs.ModeSymlink != 0
	switch {
	case fi.IsDir():
		return nil, fmt.Errorf("%s is a directory", path)
	case !force:
		return nil, &ExistsError{Path: path, Link: link}
	case !link && !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file (%s): not replaced", path, fi.Mode().Type())
	}
	for range 10 {
		var r [6]byte
		rand.Read(r[:])
		tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(r[:]))
		f, err = os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, path); err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, err
		}
		return f, nil
	}
	return nil, err
}

package tui

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The history file holds one entry per line. An entry that spans lines
// or starts with a double quote is written as a Go quoted string, so
// every line of the file is one entry and plain lines stay greppable.

// loadHistory reads up to limit entries, the newest last. A missing file
// is an empty history. A file grown past twice the limit is rewritten
// with the newest entries.
func loadHistory(path string, limit int) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var h []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if l := decodeHistory(sc.Text()); l != "" {
			h = append(h, l)
		}
	}
	if err := sc.Err(); err != nil {
		return h, err
	}
	if len(h) > 2*limit {
		h = h[len(h)-limit:]
		if err := rewriteHistory(path, h); err != nil {
			return h, err
		}
	} else if len(h) > limit {
		h = h[len(h)-limit:]
	}
	return h, nil
}

// rewriteHistory replaces the file with h, through a temporary file.
func rewriteHistory(path string, h []string) error {
	var b strings.Builder
	for _, l := range h {
		b.WriteString(encodeHistory(l))
		b.WriteByte('\n')
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// appendHistory adds one entry to the file, creating it (and its
// directory) readable by the user alone: entries may hold tokens.
func appendHistory(path, line string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(encodeHistory(line) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func encodeHistory(l string) string {
	if strings.ContainsAny(l, "\n\r") || strings.HasPrefix(l, `"`) {
		return strconv.Quote(l)
	}
	return l
}

func decodeHistory(l string) string {
	if strings.HasPrefix(l, `"`) {
		if s, err := strconv.Unquote(l); err == nil {
			return s
		}
	}
	return l
}

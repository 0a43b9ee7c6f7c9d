package session

import (
	"errors"
	"strings"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

// recordOptions are the --record-secrets, --redact and --force flags as
// the recording writer takes them.
func (o *Options) recordOptions() record.WriterOptions {
	return record.WriterOptions{Secrets: o.RecordSecrets, Redact: o.Redact, Force: o.RecordForce}
}

// ValidRedact checks the --redact names: a header or query parameter
// name, so neither empty nor with spaces, '=' or '&' in it.
func ValidRedact(names []string) error {
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, " \t\r\n=&:?#") {
			return UsageErr("--redact %q: want a header or query parameter name", n)
		}
	}
	return nil
}

// recordFileErr says why the --record file was not created (exit 2).
func recordFileErr(err error) error {
	var ee *record.ExistsError
	switch {
	case errors.As(err, &ee) && ee.Link:
		return UsageErr("--record: %v (--force replaces the link, not what it points to)", err)
	case errors.As(err, &ee):
		return UsageErr("--record: %v (--force replaces it)", err)
	}
	return UsageErr("--record: %v", err)
}

// saveFunc is the TUI's /save: the events on screen written as a
// recording with the session's redaction. It never replaces a file (the
// one --record is writing could be it), nor follows a symbolic link.
func saveFunc(opts record.WriterOptions) func(path string, events []*inspect.Event) error {
	opts.Force = false
	return func(path string, events []*inspect.Event) error {
		return record.WriteFile(path, inspect.RecordingHeader{Version: Version}, opts, events)
	}
}

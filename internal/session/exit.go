package session

import (
	"fmt"

	"github.com/wscope/wscope/inspect"
)

// Exit statuses, documented in the README and tested against the binary.
const (
	ExitOK          = 0
	ExitRuntime     = 1 // runtime error not covered below
	ExitUsage       = 2 // bad flag, bad URL, unreadable file
	ExitConnect     = 3 // DNS, TCP, TLS, proxy, or handshake refused
	ExitAbnormal    = inspect.ExitAbnormal
	ExitMismatch    = 5 // replay mismatch or inspect --check violations
	ExitInterrupted = 130
)

// ExitError carries the status a command ends with. When Silent, the
// message was already printed.
type ExitError struct {
	Code   int
	Err    error
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exitf is an error that ends the command with code.
func Exitf(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// UsageErr is a usage error (exit 2).
func UsageErr(format string, args ...any) error { return Exitf(ExitUsage, format, args...) }

// Silent ends with code after the command printed its own explanation.
func Silent(code int) error {
	if code == ExitOK {
		return nil
	}
	return &ExitError{Code: code, Silent: true}
}

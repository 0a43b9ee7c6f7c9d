package cmd

import "github.com/wscope/wscope/internal/session"

// The exit statuses and error type are the session runner's; the command
// layer only reports them.
const (
	ExitOK          = session.ExitOK
	ExitRuntime     = session.ExitRuntime
	ExitUsage       = session.ExitUsage
	ExitConnect     = session.ExitConnect
	ExitAbnormal    = session.ExitAbnormal
	ExitMismatch    = session.ExitMismatch
	ExitInterrupted = session.ExitInterrupted
)

// ExitError carries the status a command ends with.
type ExitError = session.ExitError

// IOStreams are a command's standard streams, replaceable in tests.
type IOStreams = session.IOStreams

var (
	exitf    = session.Exitf
	usageErr = session.UsageErr
	silent   = session.Silent
)

// SystemIO returns the process's streams.
func SystemIO() *IOStreams { return session.SystemIO() }

package session

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/internal/wire"
)

// wantUsage fails unless err is an *ExitError with ExitUsage whose message
// contains every one of subs.
func wantUsage(t *testing.T, err error, subs ...string) {
	t.Helper()
	wantExit(t, err, ExitUsage, subs...)
}

// wantExit fails unless err is an *ExitError with the given code whose
// message contains every one of subs.
func wantExit(t *testing.T, err error, code int, subs ...string) {
	t.Helper()
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T), want *ExitError with code %d", err, err, code)
	}
	if ee.Code != code {
		t.Errorf("exit code %d, want %d (error %v)", ee.Code, code, err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

// validSession returns the options the flags default to.
func validSession() Options {
	return Options{
		Output:         FormatText,
		BinaryAs:       "base64",
		Stdin:          StdinLines,
		MaxMessageSize: wire.DefaultMaxMessageSize,
		CloseTimeout:   wire.DefaultCloseTimeout,
	}
}

func TestSessionOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Options)
		subs   []string // nil: valid
	}{
		{"defaults", func(*Options) {}, nil},
		{"frames", func(o *Options) { o.Output = FormatFrames }, nil},
		{"json", func(o *Options) { o.Output = FormatJSON }, nil},
		{"hex", func(o *Options) { o.BinaryAs = "hex" }, nil},
		{"raw", func(o *Options) { o.BinaryAs = "raw" }, nil},
		{"stdin raw", func(o *Options) { o.Stdin = StdinRaw }, nil},
		{"stdin json", func(o *Options) { o.Stdin = StdinJSON }, nil},
		{"fragment", func(o *Options) { o.Fragment = 1 }, nil},
		{"no size limit", func(o *Options) { o.MaxMessageSize = 0 }, nil},
		{"bad output", func(o *Options) { o.Output = "yaml" }, []string{`unknown output format "yaml"`}},
		{"empty output", func(o *Options) { o.Output = "" }, []string{"unknown output format"}},
		{"output case", func(o *Options) { o.Output = "JSON" }, []string{"unknown output format"}},
		{"bad binary-as", func(o *Options) { o.BinaryAs = "octal" }, []string{`--binary-as "octal"`}},
		{"bad stdin", func(o *Options) { o.Stdin = "xml" }, []string{`--stdin mode "xml"`}},
		{"negative fragment", func(o *Options) { o.Fragment = -1 }, []string{"--fragment"}},
		{"zero close timeout", func(o *Options) { o.CloseTimeout = 0 }, []string{"--close-timeout"}},
		{"negative close timeout", func(o *Options) { o.CloseTimeout = -time.Second }, []string{"--close-timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := validSession()
			tt.change(&o)
			err := o.Validate()
			if tt.subs == nil {
				if err != nil {
					t.Errorf("validate() = %v, want nil", err)
				}
				return
			}
			wantUsage(t, err, tt.subs...)
		})
	}
}

func TestSessionOptionsConfig(t *testing.T) {
	t.Parallel()
	start := time.Unix(1700000000, 0)
	o := validSession()
	o.NoAutoPong, o.Strict, o.Fragment, o.CloseTimeout = true, true, 7, 3*time.Second
	got := o.config(4, start)
	want := wire.Config{ID: 4, Start: start, MaxMessageSize: wire.DefaultMaxMessageSize, MaxMessageFrames: -1, NoAutoPong: true, Strict: true, CloseTimeout: 3 * time.Second, FragmentSize: 7, OmitSent: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config\n got %+v\nwant %+v", got, want)
	}

	o.MaxMessageSize, o.Output = 0, FormatJSON
	got = o.config(1, start)
	if got.MaxMessageSize != -1 {
		t.Errorf("--max-message-size 0 gives MaxMessageSize %d, want -1 (no limit)", got.MaxMessageSize)
	}
	if got.OmitSent {
		t.Error("json output omits sent frames; a recording needs both directions")
	}
	o.Output = FormatFrames
	if o.config(1, start).OmitSent {
		t.Error("frames output omits sent frames")
	}
}

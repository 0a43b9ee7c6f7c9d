// Package config reads wscope's configuration file: named targets, so that
// `wscope connect @staging` stands for a URL with its headers,
// subprotocols, TLS files, proxy, compression and the messages to send
// first. Values may name environment variables (${TOKEN}) so that secrets
// stay out of the file.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// File is a configuration file.
type File struct {
	// Path is where it was read from.
	Path string
	// Targets by name.
	Targets map[string]Target `toml:"targets"`
}

// Target is one named server and how to talk to it. Empty fields are not
// set; the command line's flags override what is set.
type Target struct {
	URL            string   `toml:"url"`
	Headers        []string `toml:"headers"` // "Name: value"
	Subprotocols   []string `toml:"subprotocols"`
	Origin         string   `toml:"origin"`
	Auth           string   `toml:"auth"` // user:pass, sent as Basic
	CA             string   `toml:"ca"`
	Cert           string   `toml:"cert"`
	Key            string   `toml:"key"`
	Insecure       bool     `toml:"insecure"`
	Proxy          string   `toml:"proxy"`
	Compress       bool     `toml:"compress"`
	Execute        []string `toml:"execute"` // sent first, like -x
	ConnectTimeout Duration `toml:"connect_timeout"`
}

// Duration is a time.Duration written as "5s" in the file.
type Duration struct{ time.Duration }

// UnmarshalText reads "5s", "1m30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back, for config show.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultPath is where the file is looked for: $XDG_CONFIG_HOME/wscope/
// config.toml, else ~/.config/wscope/config.toml; "" when there is no home.
func DefaultPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "wscope", "config.toml")
}

// ErrNoFile is a configuration file that does not exist.
var ErrNoFile = errors.New("no configuration file")

// Load reads the file at path. Unknown keys are an error naming them, so
// that a typo does not silently drop a header.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoFile, path)
	}
	if err != nil {
		return nil, err
	}
	f := &File{Path: path}
	md, err := toml.Decode(string(b), f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if undec := md.Undecoded(); len(undec) > 0 {
		keys := make([]string, len(undec))
		for i, k := range undec {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%s: unknown keys %s", path, strings.Join(keys, ", "))
	}
	for name, t := range f.Targets {
		if !validName(name) {
			return nil, fmt.Errorf("%s: target name %q: use letters, digits, '-', '_' and '.'", path, name)
		}
		if t.URL == "" {
			return nil, fmt.Errorf("%s: target %s has no url", path, name)
		}
	}
	return f, nil
}

// Names returns the targets' names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Targets))
	for n := range f.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Target returns the target called name with its ${VARIABLES} taken from
// getenv; a variable that is not set is an error naming it.
func (f *File) Target(name string, getenv func(string) (string, bool)) (Target, error) {
	t, ok := f.Targets[name]
	if !ok {
		return Target{}, fmt.Errorf("%s has no target %q (it has: %s)", f.Path, name, strings.Join(f.Names(), ", "))
	}
	var missing []string
	expand := func(s string) string {
		return envRef.ReplaceAllStringFunc(s, func(ref string) string {
			v, ok := getenv(ref[2 : len(ref)-1])
			if !ok {
				missing = append(missing, ref)
			}
			return v
		})
	}
	each := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = expand(v)
		}
		return out
	}
	t.URL, t.Origin, t.Auth, t.Proxy = expand(t.URL), expand(t.Origin), expand(t.Auth), expand(t.Proxy)
	t.CA, t.Cert, t.Key = expandHome(expand(t.CA)), expandHome(expand(t.Cert)), expandHome(expand(t.Key))
	t.Headers, t.Subprotocols, t.Execute = each(t.Headers), each(t.Subprotocols), each(t.Execute)
	if len(missing) > 0 {
		return Target{}, fmt.Errorf("target %s uses %s, which the environment does not set", name, strings.Join(missing, ", "))
	}
	return t, nil
}

// envRef is a ${NAME} reference to an environment variable.
var envRef = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// expandHome turns a leading ~/ into the home directory.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

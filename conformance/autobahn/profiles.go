package main

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// A profile is a named list of the suite's case patterns ("6.*", "12.1.3").
type profile struct {
	name     string
	patterns []string
	about    string
	// caseTimeout is the default bound on one case. The full profile's
	// bound is past the suite's own limit on its slowest cases (480 s in
	// 12.* and 13.*), so that the suite judges slowness, not the driver;
	// the others' cases take seconds.
	caseTimeout time.Duration
}

// quickPatterns is every section but the slow ones: 9.* (messages up to
// 16 MiB) and the compression sections 12.* and 13.*, of which each
// subsection's first five cases (the small messages) are kept. 12.* has
// five subsections (one per test payload), 13.* seven (one per set of
// deflate parameters); the suite fails on a case it does not have.
func quickPatterns() []string {
	p := []string{"1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"}
	for _, s := range []struct{ section, subsections int }{{12, 5}, {13, 7}} {
		for n := 1; n <= s.subsections; n++ {
			for k := 1; k <= 5; k++ {
				p = append(p, fmt.Sprintf("%d.%d.%d", s.section, n, k))
			}
		}
	}
	return p
}

var profiles = []profile{
	{"quick", quickPatterns(), "1.* to 7.*, 10.*, 12.N.1-5 for N = 1..5 and 13.N.1-5 for N = 1..7", time.Minute},
	{"ci", append(quickPatterns(), "9.*"), "quick plus 9.*, big messages and many fragments", time.Minute},
	{"full", []string{"*"}, "every case", 10 * time.Minute},
}

func findProfile(name string) (profile, error) {
	var names []string
	for _, p := range profiles {
		if p.name == name {
			return p, nil
		}
		names = append(names, p.name)
	}
	return profile{}, fmt.Errorf("unknown profile %q (one of %s)", name, strings.Join(names, ", "))
}

// matchCase reports whether the case id matches a pattern as the suite reads
// its spec: "*" stands for anything, every other character for itself.
func matchCase(pattern, id string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == id
	}
	parts := strings.Split(pattern, "*")
	for i, part := range parts {
		parts[i] = regexp.QuoteMeta(part)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(id)
}

func matchAny(patterns []string, id string) bool {
	for _, p := range patterns {
		if matchCase(p, id) {
			return true
		}
	}
	return false
}

// A mode is one way of running wscope against the suite; its name is the
// agent name's suffix in the suite's reports.
type mode struct {
	name     string
	strict   bool
	compress bool
}

var modes = []mode{
	{"strict-deflate", true, true},
	{"strict", true, false},
	{"default-deflate", false, true},
	{"default", false, false},
}

func (m mode) agent() string { return "wscope-" + m.name }

// deflateSections are the suite's permessage-deflate sections (RFC 7692).
var deflateSections = []string{"12.*", "13.*"}

// runs reports whether the mode runs a case. Without --compress wscope
// offers (client) and accepts (server) no extension, as asked, so the
// deflate sections test nothing of it: the suite would count each
// declined offer UNIMPLEMENTED. Those cases run in the --compress modes.
func (m mode) runs(id string) bool { return m.compress || !matchAny(deflateSections, id) }

// excluded is the suite's exclude-cases list for the mode.
func (m mode) excluded() []string {
	if m.compress {
		return []string{}
	}
	return deflateSections
}

// casesRun keeps the ids the mode runs.
func (m mode) casesRun(ids []string) []string {
	var out []string
	for _, id := range ids {
		if m.runs(id) {
			out = append(out, id)
		}
	}
	return out
}

// flags are the wscope flags of the mode, after --echo.
func (m mode) flags() []string {
	var f []string
	if m.strict {
		f = append(f, "--strict")
	}
	if m.compress {
		f = append(f, "--compress")
	}
	return f
}

// parseModes reads the -modes flag: mode names separated by commas, or
// "all".
func parseModes(s string) ([]mode, error) {
	if s == "all" {
		return modes, nil
	}
	var out []mode
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, m := range modes {
			if m.name == name {
				out, found = append(out, m), true
			}
		}
		if !found {
			var names []string
			for _, m := range modes {
				names = append(names, m.name)
			}
			return nil, fmt.Errorf("unknown mode %q (one of %s, or all)", name, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// A role is which side of the connection wscope plays.
type role string

const (
	clientRole role = "client" // wscope connect against the suite's fuzzingserver
	serverRole role = "server" // the suite's fuzzingclient against wscope listen
)

func parseRoles(s string) ([]role, error) {
	switch s {
	case "both":
		return []role{clientRole, serverRole}, nil
	case "client":
		return []role{clientRole}, nil
	case "server":
		return []role{serverRole}, nil
	}
	return nil, fmt.Errorf("unknown role %q (client, server or both)", s)
}

// command is the wscope command line of a role and mode, for reports.
func command(r role, m mode) string {
	c := "connect --echo"
	if r == serverRole {
		c = "listen --echo"
	}
	for _, f := range m.flags() {
		c += " " + f
	}
	return c
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// savedRuns is what -save writes and -load reads: the results of some
// roles and modes, so that runs made apart (the two roles side by side, or
// on two machines) make one doc section and one -check.
type savedRuns struct {
	Profile string     `json:"profile"`
	Info    runInfo    `json:"info"`
	Runs    []savedRun `json:"runs"`
}

type savedRun struct {
	Role    role          `json:"role"`
	Mode    string        `json:"mode"`
	Cases   []caseResult  `json:"cases"`
	Elapsed time.Duration `json:"elapsed"`
	Err     string        `json:"error,omitempty"`
}

func saveRuns(path, profile string, info runInfo, results []runResult) error {
	s := savedRuns{Profile: profile, Info: info}
	for _, r := range results {
		sr := savedRun{Role: r.Role, Mode: r.Mode.name, Cases: r.Cases, Elapsed: r.Elapsed}
		if r.Err != nil {
			sr.Err = r.Err.Error()
		}
		s.Runs = append(s.Runs, sr)
	}
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// loadRuns reads the files -save wrote, all of one profile, in order; a
// role and mode given twice is refused. The info is the first file's.
func loadRuns(paths []string, profile string) (runInfo, []runResult, error) {
	var info runInfo
	var results []runResult
	seen := map[string]string{}
	for i, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return info, nil, err
		}
		var s savedRuns
		if err := json.Unmarshal(data, &s); err != nil {
			return info, nil, fmt.Errorf("%s: %v", path, err)
		}
		if s.Profile != profile {
			return info, nil, fmt.Errorf("%s holds the %s profile, not %s", path, s.Profile, profile)
		}
		if i == 0 {
			info = s.Info
		}
		for _, sr := range s.Runs {
			m, err := parseModes(sr.Mode)
			if err != nil || len(m) != 1 {
				return info, nil, fmt.Errorf("%s: mode %q: %v", path, sr.Mode, err)
			}
			key := string(sr.Role) + " " + sr.Mode
			if prev, dup := seen[key]; dup {
				return info, nil, fmt.Errorf("%s and %s both hold %s", prev, path, key)
			}
			seen[key] = path
			r := runResult{Role: sr.Role, Mode: m[0], Cases: sr.Cases, Elapsed: sr.Elapsed}
			if sr.Err != "" {
				r.Err = errors.New(sr.Err)
			}
			results = append(results, r)
		}
	}
	return info, results, nil
}

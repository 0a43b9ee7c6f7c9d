package harness

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary is its own launcher, as a driver is.
func TestMain(m *testing.M) {
	MaybeLauncher()
	os.Exit(m.Run())
}

func TestLaunchReportsExitAndNice(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Field 19 of /proc/PID/stat is the nice value (of cut, a child of sh).
	l, err := Launch(ctx, sh, "-c", `cut -d" " -f19 /proc/self/stat; echo "${`+launchNiceEnv+`-unset}"; exit 3`)
	if err != nil {
		t.Fatal(err)
	}
	l.Nice = 5
	var out bytes.Buffer
	l.Cmd.Stdout = &out
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	u, err := l.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if u.Exit != 3 {
		t.Errorf("exit %d, want 3", u.Exit)
	}
	if got := strings.Fields(out.String()); len(got) != 2 || got[0] != "5" || got[1] != "unset" {
		t.Errorf("nice and %s in the command: %q, want 5 and unset", launchNiceEnv, got)
	}
}

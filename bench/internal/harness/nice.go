package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
)

// niceEnv marks the second run of a driver started by RunNiced.
const niceEnv = "WSCOPE_BENCH_NICE"

// RunNiced puts the whole benchmark, the driver and every process it
// starts, at nice value n in a scheduling group of its own, so that other
// work on a busy machine does not stretch what it measures. A negative n
// needs root (CAP_SYS_NICE).
//
// It runs this program again with the same arguments, at nice n in a new
// session, passes Ctrl-C on, and exits with its status. In that second run
// it sets the nice of the session's autogroup and returns nil. With
// autogroup scheduling (on by default in most kernels) a plain nice only
// orders the tasks of one session, and sessions share the CPUs by their
// autogroup's nice: both are needed.
//
// Nice values are per thread in Linux, and a thread inherits the one of
// the thread that created it: the driver's threads, and the processes it
// starts, all run at n.
func RunNiced(n int) error {
	if n == 0 {
		return nil
	}
	if v := os.Getenv(niceEnv); v != "" {
		// We lead a session of our own (see below): its autogroup is ours.
		err := os.WriteFile("/proc/self/autogroup", []byte(v), 0)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("autogroup nice %s: %w", v, err)
		}
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// The child inherits the nice of the thread that starts it.
	runtime.LockOSThread()
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, n); err != nil {
		return fmt.Errorf("nice %d: %w", n, err)
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = append(os.Environ(), niceEnv+"="+strconv.Itoa(n))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// In a session of its own the child no longer gets the terminal's
	// Ctrl-C: pass it on.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		for s := range sig {
			cmd.Process.Signal(s)
		}
	}()
	cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	os.Exit(code)
	return nil
}

// Niced reports the nice value RunNiced put this run at, or 0.
func Niced() int {
	n, _ := strconv.Atoi(os.Getenv(niceEnv))
	return n
}

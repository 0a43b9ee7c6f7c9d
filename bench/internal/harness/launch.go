package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// LauncherArg, as a driver's first argument, makes it a launcher (see
// MaybeLauncher) instead of a benchmark.
const LauncherArg = "harness-rusage-exec"

// launchNiceEnv carries Launched.Nice to the launcher, which removes it
// from the command's environment.
const launchNiceEnv = "WSCOPE_BENCH_LAUNCH_NICE"

// Usage is what the kernel reports about a finished command.
type Usage struct {
	Wall   time.Duration `json:"wall_ns"`
	User   time.Duration `json:"user_ns"`
	System time.Duration `json:"system_ns"`
	RSSKiB int64         `json:"maxrss_kib"` // ru_maxrss, the number GNU time -f %M prints
	Exit   int           `json:"exit"`       // -1: killed by a signal, or did not start
	Err    string        `json:"error,omitempty"`
}

// CPU is user plus system time, all threads.
func (u Usage) CPU() time.Duration { return u.User + u.System }

// MaybeLauncher runs the launcher and exits when the program was started
// as one (os.Args[1] == LauncherArg), and else returns at once. Drivers
// that use Launch call it first thing in main.
//
// The launcher runs the command with its own standard streams, waits for
// it, writes its Usage as JSON on fd 3 and exits with its status. It does
// nothing else, so that its own peak RSS stays small: on Linux a child's
// ru_maxrss is never below the peak RSS of the process that started it (Go
// starts children with vfork semantics, and at exec the kernel carries the
// old address space's high-water mark into the child's maxrss). Started
// from a driver that holds megabytes of buffers, a command would be
// measured at the driver's size; from the launcher the floor is a few MiB
// (LauncherFloor says how many).
func MaybeLauncher() {
	if len(os.Args) < 2 || os.Args[1] != LauncherArg {
		return
	}
	os.Exit(launcherMain(os.Args[2:]))
}

func launcherMain(args []string) int {
	// The report pipe is the launcher's, not the command's.
	syscall.CloseOnExec(3)
	rep := os.NewFile(3, "report")
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: "+LauncherArg+" COMMAND [ARGS...]")
		return 2
	}
	if v, ok := os.LookupEnv(launchNiceEnv); ok {
		os.Unsetenv(launchNiceEnv)
		if n, err := strconv.Atoi(v); err == nil && n != 0 {
			if err := setNice(n); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", LauncherArg, err)
				return 126
			}
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	u := Usage{Exit: -1}
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		cmd.Wait()
		u.Wall = time.Since(start)
	}
	code := 127
	if ps := cmd.ProcessState; ps != nil {
		u.Exit = ps.ExitCode()
		u.User, u.System = ps.UserTime(), ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			u.RSSKiB = ru.Maxrss // KiB on Linux
		}
		code = u.Exit
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		u.Err = err.Error()
	}
	if rep != nil {
		json.NewEncoder(rep).Encode(&u)
	}
	return code
}

// setNice puts the launcher, and so the command it starts, at nice n, and
// the autogroup of its session with it.
func setNice(n int) error {
	// Linux nice values are per thread, and a child inherits the one of
	// the thread that forks it: stay on this thread.
	runtime.LockOSThread()
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, n); err != nil {
		return fmt.Errorf("nice %d: %w", n, err)
	}
	// With autogroup scheduling (most desktop and many server kernels),
	// nice only orders the tasks of one session; sessions share the CPUs
	// by their autogroup's nice. The launcher leads a session of its own
	// (see Launched.Start), so this sets the priority of the launcher and
	// the measured command only. Only as a session leader: the autogroup
	// of the caller's session is not ours to change.
	if sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0); errno != 0 || int(sid) != os.Getpid() {
		fmt.Fprintln(os.Stderr, LauncherArg+": not a session leader: the autogroup nice is left alone")
	} else if err := os.WriteFile("/proc/self/autogroup", []byte(strconv.Itoa(n)), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autogroup nice %d: %w", n, err)
	}
	return nil
}

// Launched is a command run through the launcher.
type Launched struct {
	// Cmd is the launcher's process. Set its Stdin, Stdout and Stderr
	// before Start: an *os.File goes to the command as it is.
	Cmd *exec.Cmd

	// Nice, when not 0, is the nice value the command runs at, set before
	// Start: the launcher then leads a session of its own, whose
	// autogroup it puts at the same nice, so that other work on a busy
	// machine does not stretch what the command's wall time measures. A
	// negative one needs root (CAP_SYS_NICE). Leave it 0 under RunNiced,
	// which nices the whole benchmark: a session of its own would put the
	// command back in an autogroup at nice 0.
	Nice int

	report chan []byte
	pr, pw *os.File
}

// Launch prepares bin args to run through this program's launcher, in a
// process group of its own that is killed whole when ctx is done. The
// program must call MaybeLauncher at the start of main.
func Launch(ctx context.Context, bin string, args ...string) (*Launched, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, append([]string{LauncherArg, bin}, args...)...)
	cmd.ExtraFiles = []*os.File{pw} // the launcher's fd 3
	OwnGroup(cmd)
	return &Launched{Cmd: cmd, pr: pr, pw: pw, report: make(chan []byte, 1)}, nil
}

// OwnGroup runs cmd in a process group of its own, and makes the
// cancellation of its context kill that whole group: a command started
// through a launcher or a wrapper script leaves nothing running behind it.
func OwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
}

// Start starts the launcher, and so the command.
func (l *Launched) Start() error {
	if l.Nice != 0 {
		// A session, and so a process group, of its own.
		l.Cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		l.Cmd.Env = append(l.Cmd.Environ(), launchNiceEnv+"="+strconv.Itoa(l.Nice))
	}
	err := l.Cmd.Start()
	l.pw.Close()
	if err != nil {
		l.pr.Close()
		return err
	}
	go func() {
		b, _ := io.ReadAll(l.pr)
		l.pr.Close()
		l.report <- b
	}()
	return nil
}

// Wait waits for the command and returns its Usage. The error is the
// launcher's own failure (killed, or no report), not the command's exit
// status, which is in Usage.Exit.
func (l *Launched) Wait() (Usage, error) {
	werr := l.Cmd.Wait()
	u := Usage{Exit: -1}
	b := <-l.report
	if err := json.Unmarshal(b, &u); err != nil {
		if werr == nil {
			werr = fmt.Errorf("the launcher sent no report (%q)", b)
		}
		return Usage{Exit: -1}, werr
	}
	if u.Err != "" {
		return u, fmt.Errorf("%s", u.Err)
	}
	return u, nil
}

// LauncherFloor is the peak RSS, in KiB, the launcher reports for true(1):
// no command measured through it can be reported below that.
func LauncherFloor(ctx context.Context) int64 {
	bin, err := exec.LookPath("true")
	if err != nil {
		return 0
	}
	l, err := Launch(ctx, bin)
	if err != nil || l.Start() != nil {
		return 0
	}
	u, err := l.Wait()
	if err != nil {
		return 0
	}
	return u.RSSKiB
}

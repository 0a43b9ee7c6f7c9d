// Command listenload measures `wscope listen --echo` as a load-test
// target (docs/benchmarks.md, "listen as a load target"): how many
// concurrent WebSocket clients it holds, in how much memory, how fast it
// echoes while it holds them, and whether it gives the memory back when
// they leave.
//
// It builds wscope, starts `wscope listen 127.0.0.1:0 --echo` with its
// output on /dev/null, and runs phases: each opens N clients (a real
// upgrade, from source addresses 127.0.0.2, 127.0.0.3, ... so that no
// address runs out of ephemeral ports), holds them, samples the server's
// resident memory and the round-trip time of 32-byte text messages sent
// on randomly chosen held connections, then closes every client (close
// frame, then TCP) and samples the memory again once the server has let
// them go. The open-files limit is raised for the driver and the server.
//
//	go run ./bench/listenload                       # 1k, 5k, 10k, 50k clients; rewrites docs/benchmarks.md
//	go run ./bench/listenload -phases 1000,5000 -update-docs=false
//	go run ./bench/listenload --quick               # 200 and 1,000 clients
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/wscope/wscope/bench/internal/harness"
)

const driver = harness.Driver("bench/listenload")

// perAddress is how many clients share one source address: below the
// 28,000 ephemeral ports Linux gives each by default.
const perAddress = 20000

func main() {
	phases := flag.String("phases", "1000,5000,10000,50000", "comma-separated client counts, one phase each, in order")
	samples := flag.Int("samples", 2000, "round trips sampled while the clients are held")
	dialers := flag.Int("dialers", 64, "clients connecting at once")
	settle := flag.Duration("settle", 3*time.Second, "wait after the clients of a phase have gone before sampling memory")
	wscopeBin := flag.String("wscope", "", "use this wscope binary instead of building it from the repository")
	update := flag.Bool("update-docs", true, "write the results section of docs/benchmarks.md")
	docs := flag.String("docs", "docs/benchmarks.md", "documentation file whose results section is rewritten")
	quick := flag.Bool("quick", false, "200 and 1,000 clients, 500 samples; docs/benchmarks.md is not rewritten unless -update-docs is given")
	flag.Parse()
	if *quick {
		harness.QuickDefaults(map[string]string{"phases": "200,1000", "samples": "500", "update-docs": "false"})
	}
	counts, err := harness.Counts("phases", "client count", *phases)
	if err != nil {
		driver.Fatalf("%v", err)
	}
	driver.Run(func(ctx context.Context, root string) error {
		limit := raiseFileLimit(2*slices.Max(counts) + 1000)
		bin, err := driver.WscopeBin(root, *wscopeBin)
		if err != nil {
			return err
		}
		r := &report{Machine: harness.DescribeMachine(root), LoadStart: harness.LoadAverage(), Samples: *samples, FileLimit: limit}
		srv, err := startServer(ctx, bin)
		if err != nil {
			return err
		}
		defer srv.stop()
		r.BaselineRSS = srv.rss()
		addr := 2 // the next phase's first source address, 127.0.0.addr
		for _, asked := range counts {
			// Each side holds a descriptor per client: a phase the limit
			// does not allow runs with as many as it does.
			n := min(asked, int(limit)-500)
			if n < asked {
				driver.Logf("%d clients asked for: the open-files limit (%d) allows %d", asked, limit, n)
			}
			p, err := runPhase(ctx, srv, n, addr, *samples, *dialers, *settle)
			p.Asked = asked
			// Each phase from addresses of its own: the ports of the last
			// one's clients wait in TIME_WAIT.
			addr += (n + perAddress - 1) / perAddress
			if err != nil {
				return fmt.Errorf("%d clients: %w", n, err)
			}
			r.Phases = append(r.Phases, p)
		}
		r.LoadEnd = harness.LoadAverage()
		md := r.markdown()
		return driver.Publish(root, "listenload-latest", md, r, harness.Docs{
			Path: harness.Abs(root, *docs), Begin: beginMarker, End: endMarker,
			Heading: "## listen as a load target",
		}, *update, *quick)
	})
}

// raiseFileLimit raises the open-files limit (soft and hard, which root
// may) to at least want, and returns what it is; children inherit it.
func raiseFileLimit(want int) uint64 {
	var l syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	if l.Cur >= uint64(want) {
		return l.Cur
	}
	n := syscall.Rlimit{Cur: uint64(want), Max: max(l.Max, uint64(want))}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
		// Not root: the hard limit is as far as it goes.
		n = syscall.Rlimit{Cur: l.Max, Max: l.Max}
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n)
		driver.Logf("open-files limit %d (could not raise it to %d: %v)", l.Max, want, err)
	}
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	return l.Cur
}

// server is the wscope listen process.
type server struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startServer(ctx context.Context, bin string) (*server, error) {
	cmd := exec.CommandContext(ctx, bin, "listen", "127.0.0.1:0", "--echo", "--no-tui")
	cmd.Stdin = nil
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	harness.OwnGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		// The listening line, then every client's lines, drained so the
		// server never blocks on stderr.
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if _, url, ok := strings.Cut(line, "listening on ws://"); ok {
				select {
				case found <- strings.Fields(url)[0]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		close(s.done)
	}()
	select {
	case u := <-found:
		s.addr = strings.TrimSuffix(u, "/")
		driver.Logf("wscope listen --echo at %s (pid %d)", s.addr, cmd.Process.Pid)
		return s, nil
	case <-time.After(10 * time.Second):
		s.stop()
		return nil, errors.New("wscope listen did not say where it listens within 10s")
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	s.cmd.Wait()
}

// rss is the server's resident memory now, in bytes (VmRSS), and its
// peak so far (VmHWM).
func (s *server) rss() int64 { return harness.ProcStatus(s.cmd.Process.Pid, "VmRSS:") }
func (s *server) hwm() int64 { return harness.ProcStatus(s.cmd.Process.Pid, "VmHWM:") }

// phase is what one phase measured.
type phase struct {
	Asked       int           `json:"asked"` // clients asked for; Clients is what the file limit allowed
	Clients     int           `json:"clients"`
	Connected   int           `json:"connected"`
	ConnectTime time.Duration `json:"connect_ns"`
	RSSBefore   int64         `json:"rss_before"` // server, before the first client
	RSSHeld     int64         `json:"rss_held"`   // while all are held
	PeakRSS     int64         `json:"peak_rss"`   // VmHWM at the end of the phase
	RSSAfter    int64         `json:"rss_after"`  // after they left and -settle passed
	Samples     int           `json:"samples"`
	Failed      int           `json:"failed_round_trips"`
	P50         time.Duration `json:"p50_ns"`
	P90         time.Duration `json:"p90_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
	LeaveTime   time.Duration `json:"leave_ns"` // until the server's memory stopped falling
}

// client is one held connection.
type client struct {
	nc net.Conn
	br *bufio.Reader
}

func runPhase(ctx context.Context, srv *server, n, addr, samples, dialers int, settle time.Duration) (phase, error) {
	p := phase{Clients: n, RSSBefore: srv.rss()}
	clients := make([]*client, n)
	var (
		next    atomic.Int64
		failed  atomic.Int64
		firstMu sync.Mutex
		first   error
		wg      sync.WaitGroup
	)
	start := time.Now()
	for range dialers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := dial(ctx, srv.addr, addr, i)
				if err != nil {
					failed.Add(1)
					firstMu.Lock()
					if first == nil {
						first = err
					}
					firstMu.Unlock()
					continue
				}
				clients[i] = c
			}
		})
	}
	wg.Wait()
	p.ConnectTime = time.Since(start)
	held := slices.DeleteFunc(clients, func(c *client) bool { return c == nil })
	p.Connected = len(held)
	driver.Logf("%d clients: %d connected in %s (%d failed%s)", n, p.Connected, p.ConnectTime.Round(time.Millisecond), failed.Load(), errSuffix(first))
	defer func() {
		for _, c := range held {
			c.nc.Close()
		}
	}()
	if p.Connected == 0 {
		return p, fmt.Errorf("no client connected: %v", first)
	}
	time.Sleep(500 * time.Millisecond) // the last handshakes' notes and events
	p.RSSHeld = srv.rss()

	rtts, fails := sample(held, samples)
	p.Samples, p.Failed = len(rtts), fails
	if len(rtts) > 0 {
		slices.Sort(rtts)
		at := func(q float64) time.Duration { return rtts[min(len(rtts)-1, int(q*float64(len(rtts))))] }
		p.P50, p.P90, p.P99, p.Max = at(0.50), at(0.90), at(0.99), rtts[len(rtts)-1]
	}
	driver.Logf("%d clients held: server RSS %s; round trips p50 %s p99 %s max %s (%d failed)",
		p.Connected, harness.MiB(p.RSSHeld), p.P50, p.P99, p.Max, fails)

	// Leave: a close frame each, then TCP closed.
	leave := time.Now()
	closeBody := ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
	for _, c := range held {
		f := ws.NewCloseFrame(closeBody)
		f = ws.MaskFrameInPlace(f)
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		ws.WriteFrame(c.nc, f)
	}
	for _, c := range held {
		c.nc.Close()
	}
	held = nil
	// The server lets them go; then its memory should fall.
	p.RSSAfter = waitSettled(srv, settle)
	p.LeaveTime = time.Since(leave)
	p.PeakRSS = srv.hwm()
	driver.Logf("%d clients gone: server RSS %s after %s", p.Connected, harness.MiB(p.RSSAfter), p.LeaveTime.Round(time.Millisecond))
	return p, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ", first: " + err.Error()
}

// waitSettled waits for settle, then until the server's RSS has not
// fallen for a second (at most 30 s), and returns it.
func waitSettled(srv *server, settle time.Duration) int64 {
	time.Sleep(settle)
	last := srv.rss()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now := srv.rss()
		if now >= last-(1<<20) {
			return now
		}
		last = now
	}
	return last
}

// dial opens client i of a phase: TCP from source address
// 127.0.0.(first + i/perAddress), then the upgrade.
func dial(ctx context.Context, addr string, first, i int) (*client, error) {
	src := net.IPv4(127, 0, 0, byte(first+i/perAddress))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second, Control: bindNoPort}
	wd := ws.Dialer{
		NetDial:         func(ctx context.Context, network, a string) (net.Conn, error) { return d.DialContext(ctx, network, a) },
		Timeout:         10 * time.Second,
		ReadBufferSize:  512,
		WriteBufferSize: 512,
	}
	nc, br, _, err := wd.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, 512)
	}
	return &client{nc: nc, br: br}, nil
}

// sample sends samples 32-byte text messages, one at a time, each on a
// held connection chosen at random, and times each until its echo.
func sample(held []*client, samples int) (rtts []time.Duration, failed int) {
	msg := []byte("0123456789abcdef0123456789abcdef")
	for range samples {
		c := held[rand.IntN(len(held))]
		f := ws.NewTextFrame(slices.Clone(msg))
		f = ws.MaskFrameInPlace(f)
		c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		t0 := time.Now()
		if err := ws.WriteFrame(c.nc, f); err != nil {
			failed++
			continue
		}
		got, err := readEcho(c.br, len(msg))
		d := time.Since(t0)
		c.nc.SetDeadline(time.Time{})
		if err != nil || string(got) != string(msg) {
			failed++
			continue
		}
		rtts = append(rtts, d)
	}
	return rtts, failed
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (Linux 4.2): a socket
// bound to a source address gets its port at connect, where the kernel
// looks for one free for that destination, not at bind, where it looks for
// one no socket uses, a search that grows with every client held.
const ipBindAddressNoPort = 24

func bindNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// readEcho reads one frame of at most limit bytes and returns its payload.
func readEcho(br *bufio.Reader, limit int) ([]byte, error) {
	h, err := ws.ReadHeader(br)
	if err != nil {
		return nil, err
	}
	if h.Length > int64(limit) {
		return nil, fmt.Errorf("a %d-byte frame where a %d-byte echo was due", h.Length, limit)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, err
	}
	return p, nil
}

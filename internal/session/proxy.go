package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
	"github.com/wscope/wscope/tui"
)

// ProxyOptions are what `proxy` runs.
type ProxyOptions struct {
	IO *IOStreams
	Options
	Addr  string      // host:port to bind
	TLS   *tls.Config // for the clients' side; nil serves ws://
	Relay wire.RelayOptions
	Once  bool
	// MaxConns bounds the clients relayed at once; more get 503. 0 means
	// no limit.
	MaxConns int
	// IdleTimeout closes both sides of a relay with 1001 once neither has
	// sent anything for that long; 0 means never.
	IdleTimeout time.Duration
	// WriteTimeout drops both sides of a relay once one of them has taken
	// nothing it was sent for that long; 0 means ClientWriteTimeout.
	WriteTimeout time.Duration
	// Ready, when set, is told the bound address (tests listen on :0).
	Ready func(net.Addr)
}

// proxy is a running `wscope proxy`: its relays and what they share.
type proxy struct {
	opts   *ProxyOptions
	out    *sink
	dec    *decoding // --decode; nil for none
	feed   *tui.Feed
	start  time.Time
	relays connSet[*wire.Relay]
	ended  chan error // the first client's outcome, for --once
}

// Proxy runs `wscope proxy` until Ctrl-C, or with Once until the first
// client has gone.
func Proxy(ctx context.Context, opts *ProxyOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if err := validLimits(opts.MaxConns, opts.IdleTimeout); err != nil {
		return err
	}
	ios := opts.IO
	ln, err := bind(opts.Addr, opts.TLS)
	if err != nil {
		return err
	}
	defer ln.Close()
	p := &proxy{opts: opts, start: time.Now(), ended: make(chan error, 1)}
	useTUI := opts.UseTUI(ios)
	if useTUI {
		p.feed = tui.NewFeed(0)
		defer p.feed.Close()
	}
	p.dec = newDecoding(opts.Decode)
	if p.out, err = opts.sink(quietIf(useTUI, ios), 0, true); err != nil {
		return err
	}
	defer p.out.close()
	p.out.showDir = true
	warnEveryInterface(p.out, ln, "use the relay")
	self := scheme(opts.TLS) + ln.Addr().String()
	p.out.note("relaying %s to %s (Ctrl-C to stop)", self, opts.Relay.Upstream)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	acceptErr := make(chan error, 1)
	go func() {
		acceptErr <- wire.AcceptLoop(ln, func(nc net.Conn) { p.admit(ctx, nc) }, func(err error) { acceptPause(p.out.note, err) })
	}()
	defer p.closeAll(inspect.CloseGoingAway)
	defer ln.Close()
	if useTUI {
		return p.runTUI(ctx, self)
	}
	select {
	case err := <-p.ended:
		return err
	case err := <-acceptErr:
		if err != nil {
			return Exitf(ExitRuntime, "accepting connections on %s: %v", ln.Addr(), err)
		}
		return nil
	case <-ios.Interrupt:
		return Silent(ExitInterrupted)
	case <-ctx.Done():
		return nil
	}
}

// runTUI shows every relayed client; the relay sends nothing of its own,
// so there is no send box.
func (p *proxy) runTUI(ctx context.Context, self string) error {
	ios := p.opts.IO
	res, err := tui.Run(ctx, tui.Options{
		Title:      self + " → " + p.opts.Relay.Upstream.String(),
		Live:       true,
		Multi:      true,
		Recording:  p.opts.Record,
		Scrollback: p.opts.Scrollback,
		Input:      ios.In,
		Output:     ios.Out,
		Save:       saveFunc(p.opts.recordOptions()),
	}, p.feed.Events())
	p.closeAll(res.Quit.CloseCode())
	if err != nil {
		return Exitf(ExitRuntime, "terminal: %v", err)
	}
	if res.Quit == tui.QuitInterrupt {
		return Silent(ExitInterrupted)
	}
	return nil
}

// admit takes one client, or refuses it with 503 past --max-conns.
func (p *proxy) admit(ctx context.Context, nc net.Conn) {
	id, ok := p.relays.admit(p.opts.MaxConns)
	if !ok {
		refuseOverCap(p.out, nc, id, p.opts.MaxConns)
		tellTUI(p.feed, p.start, id, fmt.Sprintf("refused %s: --max-conns %d reached", nc.RemoteAddr(), p.opts.MaxConns))
		return
	}
	go p.serve(ctx, nc, id)
}

// serve relays one client.
func (p *proxy) serve(ctx context.Context, nc net.Conn, id int) {
	defer p.relays.leave(id)
	cfg := p.opts.config(id, p.start)
	// A peer that stops reading would hold its relay, and what the other
	// peer sends, forever.
	cfg.WriteTimeout = writeTimeout(p.opts.WriteTimeout)
	cfg.IdleTimeout = p.opts.IdleTimeout
	observe := observers{p.dec.wrap(p.out.event)}
	if p.feed != nil {
		observe = append(observe, p.feed.Add)
	}
	cfg.OnEvent = observe.event
	cfg.OnIdle = p.out.flush
	r, open, err := wire.AcceptRelay(ctx, nc, p.opts.Relay, cfg)
	if err != nil {
		p.refused(nc, id, err)
		return
	}
	open.TLS = wire.AddClientCert(open.TLS, nc) // the client's leg; the rest is the upstream's
	if closing := p.relays.add(id, r); closing {
		r.Close(inspect.CloseGoingAway, "")
	}
	p.out.opened(&inspect.Event{T: time.Since(p.start), Kind: inspect.KindOpen, Conn: id, Open: open}, observe.event, p.opts.Verbose)
	p.out.note("[%d] %s relayed to %s%s", id, open.Local, open.URL, clientCertNote(open.TLS))
	end := r.Run()
	p.relays.release(id) // room for the next client before anyone is told this one left
	p.out.note("[%d] closed: %s", id, inspect.DescribeEnd(&end))
	if p.opts.Once {
		p.done(finish(end, p.out, false))
	}
}

// refused reports a client the relay could not serve: a bad request, or
// an upstream that refused or could not be reached (the client got its
// answer, see wire.AcceptRelay).
func (p *proxy) refused(nc net.Conn, id int, err error) {
	nc.Close()
	p.out.event(&inspect.Event{T: time.Since(p.start), Kind: inspect.KindError, Conn: id, Text: err.Error()})
	tellTUI(p.feed, p.start, id, err.Error())
	p.out.note("[%d] %s: %v", id, nc.RemoteAddr(), err)
	if !p.opts.Once {
		return
	}
	var ue *wire.UpstreamError
	if errors.As(err, &ue) {
		p.done(Silent(ExitConnect))
		return
	}
	p.done(Silent(ExitRuntime))
}

func (p *proxy) done(err error) {
	select {
	case p.ended <- err:
	default:
	}
}

// closeAll closes every relay with code towards both peers and waits for
// them, bounded by the close timeout.
func (p *proxy) closeAll(code inspect.CloseCode) {
	p.relays.closeAll(2*p.opts.CloseTimeout+time.Second, func(r *wire.Relay) { r.Close(code, "") }, (*wire.Relay).Abort)
	p.out.flush()
}

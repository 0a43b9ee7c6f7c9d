package session

import (
	"bufio"
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wscope/wscope/appproto/socketio"
	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
	"github.com/wscope/wscope/internal/wire"
)

// inputError is a line of input that could not be understood; the line
// is skipped and reading goes on.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }

// actionKind says what one line of input asks for.
type actionKind uint8

const (
	actMessage actionKind = iota // a data message, fragmented when fragment > 0
	actControl                   // ping or pong
	actClose
	actFrame // a crafted frame, sent as is
	actSleep
	actHelp
	actMQTT // an MQTT control packet, made when sent
)

// action is one thing to send, parsed from a line of input.
type action struct {
	kind     actionKind
	op       inspect.OpCode
	payload  []byte
	fragment int
	code     inspect.CloseCode
	reason   string
	frame    wire.FrameSpec
	sleep    time.Duration
	mqtt     mqttSend
}

// apply buffers a on c; the caller flushes.
func (a *action) apply(c *wire.Conn) error {
	switch a.kind {
	case actMessage:
		if a.fragment > 0 {
			return c.WriteFragmented(a.op, a.payload, a.fragment)
		}
		return c.WriteMessage(a.op, a.payload)
	case actControl:
		if a.op == inspect.OpPing {
			return c.Ping(a.payload)
		}
		return c.Pong(a.payload)
	case actClose:
		return c.Close(a.code, a.reason)
	case actFrame:
		return c.WriteFrame(a.frame)
	case actSleep:
		time.Sleep(a.sleep)
	case actMQTT:
		return a.mqtt.apply(c)
	}
	return nil
}

// inputReader turns stdin into actions according to the mode.
type inputReader struct {
	r       *bufio.Reader
	mode    string
	binary  bool // lines are binary messages
	slash   bool // lines starting with / are commands (line mode)
	sendDir inspect.Direction
	maxLine int
	long    []byte
	lines   int // lines read so far, the current one included
	a       action
	rec     *record.LineDecoder // --stdin json: a recording's lines
	// refused counts what could not be sent (pump counts it): lines
	// refused, sends that failed, a read error.
	refused atomic.Int64
}

func newInputReader(in io.Reader, mode string, binary, slash bool, sendDir inspect.Direction, maxLine int) *inputReader {
	return &inputReader{r: bufio.NewReaderSize(in, ioBufferSize), mode: mode, binary: binary, slash: slash, sendDir: sendDir, maxLine: maxLine}
}

// drained reports that no input is buffered: the moment to flush.
func (in *inputReader) drained() bool { return in.r.Buffered() == 0 }

// next returns the next action, valid until the following call. It
// returns io.EOF at the end of the input; errors in a line are returned
// with the line skipped, so the caller may report and go on.
func (in *inputReader) next() (*action, error) {
	if in.mode == StdinRaw {
		return in.nextChunk()
	}
	line, err := in.line()
	if err != nil {
		return nil, err
	}
	in.a = action{kind: actMessage, op: inspect.OpText, payload: line}
	if in.binary {
		in.a.op = inspect.OpBinary
	}
	switch {
	case in.mode == StdinJSON:
		if len(bytes.TrimSpace(line)) == 0 {
			return in.next()
		}
		if in.rec == nil {
			in.rec = record.NewLineDecoder()
		}
		skip, err := parseJSONLine(&in.a, line, in.sendDir, in.rec)
		if err != nil {
			return nil, &inputError{fmt.Errorf("--stdin json line %d: %v", in.lines, err)}
		}
		if skip {
			return in.next()
		}
	case in.slash:
		if err := parseTyped(&in.a, line, in.binary); err != nil {
			return nil, &inputError{err}
		}
	}
	return &in.a, nil
}

// parseTyped fills a from a line a person typed (the line mode, -x, the
// TUI's send box): a slash command, "//text" for "/text", or a message.
func parseTyped(a *action, line []byte, binary bool) error {
	*a = action{kind: actMessage, op: inspect.OpText, payload: line}
	if binary {
		a.op = inspect.OpBinary
	}
	if len(line) == 0 || line[0] != '/' {
		return nil
	}
	if len(line) > 1 && line[1] == '/' {
		a.payload = line[1:]
		return nil
	}
	return parseSlash(a, string(line))
}

func (in *inputReader) nextChunk() (*action, error) {
	if in.long == nil {
		in.long = make([]byte, 64<<10)
	}
	n, err := in.r.Read(in.long)
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, err
	}
	in.a = action{kind: actMessage, op: inspect.OpBinary, payload: in.long[:n]}
	return &in.a, nil
}

// line reads one line without its "\n" or "\r\n". Lines longer than the
// buffer are assembled, up to maxLine bytes; a longer one is skipped
// without being held in memory.
func (in *inputReader) line() ([]byte, error) {
	b, err := in.r.ReadSlice('\n')
	if len(b) > 0 {
		in.lines++
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		in.long = append(in.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			// Its last byte may be the "\r" of a "\r\n" not read yet.
			if in.tooLong(len(in.long) - 1) {
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = in.r.ReadSlice('\n')
				}
				return nil, in.tooLongError()
			}
			b, err = in.r.ReadSlice('\n')
			in.long = append(in.long, b...)
		}
		b = in.long
	}
	if err != nil && (err != io.EOF || len(b) == 0) {
		return nil, err
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if in.tooLong(len(b)) {
		return nil, in.tooLongError()
	}
	return b, nil
}

func (in *inputReader) tooLong(n int) bool { return in.maxLine > 0 && n > in.maxLine }

func (in *inputReader) tooLongError() error {
	return &inputError{fmt.Errorf("input line %d is longer than --max-message-size (%d bytes): skipped", in.lines, in.maxLine)}
}

// Command is one slash command of the send language: the same table
// serves the line mode, -x, --stdin lines and the TUI's send box, their
// help and completion, and the README.
type Command struct {
	Name    string // without the slash
	Args    string // e.g. "[code [reason]]"
	Summary string
	Detail  string // more lines of help, indented under the summary
	parse   func(a *action, name, rest string) error
}

// commands is the send language's table.
var commands = []Command{
	{Name: "ping", Args: "[data]", Summary: "send a ping", parse: parseControl},
	{Name: "pong", Args: "[data]", Summary: "send an unsolicited pong", parse: parseControl},
	{Name: "close", Args: "[code [reason]]", Summary: "start the close handshake (default 1000)", parse: parseClose},
	{Name: "binary", Args: "<hex>", Summary: "send a binary message, e.g. /binary 48 65 6c 6c 6f", parse: parseBinary},
	{Name: "fragment", Args: "<n> <text>", Summary: "send text split into frames of n bytes", parse: parseFragment},
	{Name: "frame", Args: "[key=value...] [payload]", Summary: "craft one frame, valid or not; keys:", Detail: `fin=0|1 (1)   op=text|binary|close|ping|pong|cont|0x3..0xF (text)
rsv=1,2,3 (none)   mask=auto|none|<8 hex digits> (auto)
len=<n> (announced, may lie: not below the payload's)   lenenc=7|16|64
hex=<payload as hex>`, parse: func(a *action, _, rest string) error { return parseFrameSpec(a, rest) }},
	{Name: "emit", Args: "[/ns] <event> [json]", Summary: `emit a Socket.IO event, e.g. /emit chat {"text":"hi"}`, parse: parseEmit},
	{Name: "mqtt", Args: "<packet> [args...]", Summary: "send an MQTT packet in a binary message; packets:", Detail: `connect [clientid] [keepalive=N (0)] [v5]   (3.1.1 unless v5)
subscribe <filter> [qos=N (0)]   e.g. /mqtt subscribe sensors/#
publish <topic> [payload] [qos=N (0)] [retain]
disconnect        (packet ids count from 1 on each connection)`, parse: parseMQTT},
	{Name: "help", Summary: "this list", parse: func(a *action, _, _ string) error { a.kind = actHelp; return nil }},
}

// Commands returns the send language's slash commands, in help order.
func Commands() []Command { return slices.Clone(commands) }

// SlashHelp is the help of the send language, as /help prints it.
func SlashHelp() string {
	var b strings.Builder
	b.WriteString("commands:")
	for _, c := range commands {
		use := "/" + c.Name
		if c.Args != "" {
			use += " " + c.Args
		}
		if len(use) > 25 {
			fmt.Fprintf(&b, "\n  %s\n  %-25s %s", use, "", c.Summary)
		} else {
			fmt.Fprintf(&b, "\n  %-25s %s", use, c.Summary)
		}
		for line := range strings.SplitSeq(c.Detail, "\n") {
			if line != "" {
				fmt.Fprintf(&b, "\n  %-25s   %s", "", line)
			}
		}
	}
	fmt.Fprintf(&b, "\n  %-25s %s", "//text", `send "/text"`)
	return b.String()
}

// parseSlash fills a from a line-mode command.
func parseSlash(a *action, line string) error {
	name, rest, _ := strings.Cut(line[1:], " ")
	rest = strings.TrimLeft(rest, " ")
	if name == "?" {
		name = "help"
	}
	i := slices.IndexFunc(commands, func(c Command) bool { return c.Name == name })
	if i < 0 {
		name = clip(name)
		return fmt.Errorf("unknown command /%s (/help lists them; //%s sends it as text)", name, name)
	}
	return commands[i].parse(a, name, rest)
}

func parseControl(a *action, name, rest string) error {
	a.kind, a.op, a.payload = actControl, inspect.OpPing, []byte(rest)
	if name == "pong" {
		a.op = inspect.OpPong
	}
	if len(a.payload) > 125 {
		return fmt.Errorf("/%s: payload is %d bytes, control frames carry at most 125", name, len(a.payload))
	}
	return nil
}

func parseClose(a *action, _, rest string) error {
	a.kind, a.code = actClose, inspect.CloseNormal
	if rest == "" {
		return nil
	}
	codeStr, reason, _ := strings.Cut(rest, " ")
	code, err := parseCloseCode(codeStr)
	if err != nil {
		return fmt.Errorf("/close: %v", err)
	}
	if err := wire.CheckClose(code, reason); err != nil {
		return fmt.Errorf("/close: %v (/frame op=close sends any payload)", err)
	}
	a.code, a.reason = code, reason
	return nil
}

// parseEmit reads "/emit [/ns] EVENT [JSON]": a Socket.IO EVENT packet
// in an Engine.IO message, the JSON its one argument.
func parseEmit(a *action, _, rest string) error {
	ns := ""
	if strings.HasPrefix(rest, "/") {
		ns, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimLeft(rest, " ")
	}
	event, arg, _ := strings.Cut(rest, " ")
	if event == "" {
		return fmt.Errorf("/emit: want an event name, e.g. /emit chat {\"text\":\"hi\"}")
	}
	var args []json.RawMessage
	if arg = strings.TrimSpace(arg); arg != "" {
		args = append(args, json.RawMessage(arg))
	}
	p, err := socketio.Emit(ns, event, args...)
	if err != nil {
		return fmt.Errorf("/emit: %v", err)
	}
	a.kind, a.op, a.payload = actMessage, inspect.OpText, p
	return nil
}

func parseBinary(a *action, _, rest string) error {
	p, err := parseHex(rest)
	if err != nil {
		return fmt.Errorf("/binary: %v", err)
	}
	a.kind, a.op, a.payload = actMessage, inspect.OpBinary, p
	return nil
}

func parseFragment(a *action, _, rest string) error {
	nStr, text, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(nStr)
	if err != nil || n <= 0 {
		return fmt.Errorf("/fragment: want a positive frame size, got %q", clip(nStr))
	}
	a.kind, a.op, a.payload, a.fragment = actMessage, inspect.OpText, []byte(text), n
	return nil
}

// parseFrameSpec reads "/frame" arguments: key=value tokens, then the
// payload text.
func parseFrameSpec(a *action, args string) error {
	a.kind = actFrame
	spec := wire.FrameSpec{Fin: true, Op: inspect.OpText, Mask: wire.MaskAuto}
	rest, hexGiven := args, false
	for rest != "" {
		tok, after, _ := strings.Cut(rest, " ")
		key, val, ok := strings.Cut(tok, "=")
		if !ok || !isFrameKey(key) {
			break
		}
		rest = strings.TrimLeft(after, " ")
		if err := setFrameField(&spec, key, val); err != nil {
			return fmt.Errorf("/frame: %v", err)
		}
		hexGiven = hexGiven || key == "hex"
	}
	switch {
	case !hexGiven:
		spec.Payload = []byte(rest)
	case rest != "":
		return fmt.Errorf("/frame: hex= and the text %.20q are two payloads: give one", rest)
	}
	if err := spec.Check(); err != nil {
		return fmt.Errorf("/frame: %v", err)
	}
	a.frame = spec
	return nil
}

func isFrameKey(k string) bool {
	switch k {
	case "fin", "op", "rsv", "rsv1", "rsv2", "rsv3", "mask", "len", "lenenc", "hex":
		return true
	}
	return false
}

func setFrameField(spec *wire.FrameSpec, key, val string) error {
	switch key {
	case "fin":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("fin=%s: want 0 or 1", clip(val))
		}
		spec.Fin = b
	case "op":
		op, err := inspect.ParseOpCode(clip(val))
		if err != nil {
			return err
		}
		spec.Op = op
	case "rsv":
		for _, r := range strings.Split(val, ",") {
			switch strings.TrimPrefix(r, "rsv") {
			case "1":
				spec.Rsv |= inspect.Rsv1
			case "2":
				spec.Rsv |= inspect.Rsv2
			case "3":
				spec.Rsv |= inspect.Rsv3
			case "0", "":
			default:
				return fmt.Errorf("rsv=%s: want a list of 1, 2, 3", clip(val))
			}
		}
	case "rsv1", "rsv2", "rsv3":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("%s=%s: want 0 or 1", key, clip(val))
		}
		if b {
			spec.Rsv |= inspect.Rsv1 >> (key[3] - '1')
		}
	case "mask":
		switch val {
		case "auto":
			spec.Mask = wire.MaskAuto
		case "none", "0", "false":
			spec.Mask = wire.MaskNone
		default:
			k, err := hex.DecodeString(val)
			if err != nil || len(k) != 4 {
				return fmt.Errorf("mask=%s: want auto, none or 8 hex digits", clip(val))
			}
			spec.Mask = wire.MaskWith
			copy(spec.Key[:], k)
		}
	case "len":
		n, err := strconv.ParseUint(val, 0, 64)
		if err != nil {
			return fmt.Errorf("len=%s: want a number", clip(val))
		}
		spec.Length = &n
	case "lenenc":
		switch val {
		case "7":
			spec.LenEnc = inspect.Len7
		case "16":
			spec.LenEnc = inspect.Len16
		case "64":
			spec.LenEnc = inspect.Len64
		default:
			return fmt.Errorf("lenenc=%s: want 7, 16 or 64", clip(val))
		}
	case "hex":
		p, err := parseHex(val)
		if err != nil {
			return fmt.Errorf("hex=: %v", err)
		}
		spec.Payload = p
	}
	return nil
}

// clip shortens what the user wrote for an error message: a line of input
// may be megabytes long, its error is one short line. What is cut can
// never be taken for a valid value.
func clip(s string) string {
	const keep = 32
	if len(s) <= keep {
		return s
	}
	return s[:keep] + "..."
}

func parseHex(s string) ([]byte, error) {
	s = strings.NewReplacer(" ", "", ":", "", "0x", "").Replace(s)
	p, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid hex %q", clip(s))
	}
	return p, nil
}

func parseCloseCode(s string) (inspect.CloseCode, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("close code %q is not a number from 0 to 65535", clip(s))
	}
	return inspect.CloseCode(n), nil
}

// jsonAction is one line of --stdin json written by hand. A recording's
// lines (piped back in) are read by internal/record instead.
type jsonAction struct {
	Text     *string `json:"text"`
	B64      *string `json:"b64"`
	Hex      *string `json:"hex"`
	Op       string  `json:"op"`
	Fragment int     `json:"fragment"`
	Code     *int    `json:"code"`
	Reason   *string `json:"reason"`
	Close    *struct {
		Code   *int    `json:"code"`
		Reason *string `json:"reason"`
	} `json:"close"`
	Sleep  *float64        `json:"sleep"`
	Dir    string          `json:"dir"`
	Fin    *bool           `json:"fin"`
	Rsv1   bool            `json:"rsv1"`
	Rsv2   bool            `json:"rsv2"`
	Rsv3   bool            `json:"rsv3"`
	Mask   json.RawMessage `json:"mask"`
	Masked *bool           `json:"masked"`
	Len    *uint64         `json:"len"`
	LenEnc *int            `json:"len_enc"`
}

// jsonKeys are the keys of a --stdin json line written by hand.
const jsonKeys = "text, b64, hex, op, fragment, code, reason, close, sleep, dir, and for a crafted frame fin, rsv1-3, mask, masked, len, len_enc"

// parseJSONAction is parseJSONLine with a decoder of its own.
func parseJSONAction(a *action, line []byte, sendDir inspect.Direction) (skip bool, err error) {
	return parseJSONLine(a, line, sendDir, record.NewLineDecoder())
}

// parseJSONLine fills a from one --stdin json line. skip is true for
// lines that are not ours to send (the header, other events, the peer's
// direction). What cannot be sent as the line describes it is refused,
// nothing of it sent.
func parseJSONLine(a *action, line []byte, sendDir inspect.Direction, rec *record.LineDecoder) (skip bool, err error) {
	kind, typ, err := rec.Kind(line)
	switch {
	case err == nil && typ == record.HeaderLine:
		return true, nil
	case err == nil && typ == record.EventLine:
		// From a recording only msg events are sent: its frame events
		// describe the same messages again.
		if kind != inspect.KindMsg {
			return true, nil
		}
		e, err := rec.Decode(line)
		if err != nil {
			return false, err
		}
		if e.Msg.Dir != sendDir {
			return true, nil
		}
		return false, msgAction(a, e.Msg)
	}
	// Written by hand (or not JSON: encoding/json says how).
	var j jsonAction
	if err := json.Unmarshal(line, &j); err != nil {
		return false, fmt.Errorf("%v in %.60q", err, line)
	}
	// A typo ("txt") would otherwise send an empty message.
	if err := checkJSONKeys(line); err != nil {
		return false, err
	}
	if j.Dir != "" {
		dir, err := inspect.ParseDirection(clip(j.Dir))
		if err != nil {
			return false, fmt.Errorf("dir: %v", err)
		}
		if dir != sendDir {
			return true, nil
		}
	}
	*a = action{}
	if err := j.action(a); err != nil {
		return false, err
	}
	return false, nil
}

// msgAction fills a with a recorded message, to be sent again as it was
// (fragmented as wscope sends it, which the recording's frames need not
// match). The payload stays the decoder's, valid until the next line.
func msgAction(a *action, m *inspect.Message) error {
	*a = action{op: m.Op, payload: m.Payload}
	switch {
	case m.Op.IsData():
		a.kind = actMessage
	case (m.Op == inspect.OpPing || m.Op == inspect.OpPong) && len(m.Payload) <= 125:
		a.kind = actControl
	default:
		return fmt.Errorf("a recorded %s message of %d bytes is not one to send again", m.Op, len(m.Payload))
	}
	return nil
}

// checkJSONKeys refuses a key that jsonAction does not have.
func checkJSONKeys(line []byte) error {
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	var j jsonAction
	err := d.Decode(&j)
	if err == nil {
		return nil
	}
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown key %s (keys: %s)", clip(key), jsonKeys)
	}
	return err
}

// action turns j into what to send.
func (j *jsonAction) action(a *action) error {
	if j.Sleep != nil {
		return j.sleep(a)
	}
	payload, payloadKey, err := j.payload()
	if err != nil {
		return err
	}
	a.op = inspect.OpText
	switch {
	case j.Op != "":
		if a.op, err = inspect.ParseOpCode(clip(j.Op)); err != nil {
			return err
		}
	case payloadKey == "b64" || payloadKey == "hex":
		a.op = inspect.OpBinary
	}
	code, reason := j.Code, j.Reason
	if j.Close != nil {
		if code != nil || reason != nil {
			return errors.New(`"close" and "code"/"reason" give the close twice: give one`)
		}
		code, reason = j.Close.Code, j.Close.Reason
	}
	if code != nil || reason != nil {
		switch {
		case a.op != inspect.OpClose:
			return fmt.Errorf(`"code" and "reason" are for "op":"close", not %q`, a.op)
		case payloadKey != "":
			return fmt.Errorf(`%q and the close's code and reason are two payloads: give one`, payloadKey)
		case code != nil && (*code < 0 || *code > 0xFFFF):
			return fmt.Errorf("close code %d: want 0 to 65535", *code)
		}
	}
	if j.crafted() {
		if code != nil || reason != nil {
			if code == nil {
				return errors.New(`a "reason" needs a "code"`)
			}
			payload = inspect.AppendClose(nil, inspect.CloseCode(*code), deref(reason))
		}
		return j.frame(a, payload)
	}
	a.payload = payload
	switch {
	case a.op == inspect.OpClose:
		if payloadKey != "" {
			return fmt.Errorf(`a close takes "code" and "reason", not %q ("fin":true crafts a close frame with any payload)`, payloadKey)
		}
		a.kind, a.code, a.reason = actClose, inspect.CloseNormal, deref(reason)
		if code != nil {
			a.code = inspect.CloseCode(*code)
		}
		if err := wire.CheckClose(a.code, a.reason); err != nil {
			return fmt.Errorf(`%v ("fin":true crafts a close frame with any payload)`, err)
		}
	case a.op == inspect.OpPing || a.op == inspect.OpPong:
		if len(payload) > 125 {
			return fmt.Errorf(`%s payload of %d bytes: control frames carry at most 125 ("fin":true crafts a longer one)`, a.op, len(payload))
		}
		a.kind = actControl
	case !a.op.IsData():
		return fmt.Errorf("op %q needs a crafted frame: add \"fin\":true", clip(j.Op))
	default:
		a.kind = actMessage
	}
	if j.Fragment != 0 {
		if j.Fragment < 0 || a.kind != actMessage {
			return fmt.Errorf(`"fragment": %d: want a positive frame size, for a text or binary message`, j.Fragment)
		}
		a.fragment = j.Fragment
	}
	return nil
}

// payload decodes the one payload key j may have.
func (j *jsonAction) payload() (p []byte, key string, err error) {
	var keys []string
	for _, k := range []struct {
		name string
		v    *string
	}{{"text", j.Text}, {"b64", j.B64}, {"hex", j.Hex}} {
		if k.v != nil {
			keys = append(keys, k.name)
		}
	}
	switch {
	case len(keys) > 1:
		return nil, "", fmt.Errorf("%q and %q are two payloads: give one", keys[0], keys[1])
	case j.Text != nil:
		p = []byte(*j.Text)
	case j.B64 != nil:
		if p, err = base64.StdEncoding.DecodeString(*j.B64); err != nil {
			return nil, "", fmt.Errorf("b64: %v", err)
		}
	case j.Hex != nil:
		if p, err = parseHex(*j.Hex); err != nil {
			return nil, "", err
		}
	}
	if len(keys) == 0 {
		return nil, "", nil
	}
	return p, keys[0], nil
}

// crafted reports whether j sets any header field: a frame sent as is.
func (j *jsonAction) crafted() bool {
	return j.Fin != nil || j.Rsv1 || j.Rsv2 || j.Rsv3 || j.Mask != nil || j.Masked != nil || j.LenEnc != nil || j.Len != nil
}

// frame fills a with the crafted frame j describes, payload p.
func (j *jsonAction) frame(a *action, p []byte) error {
	if j.Fragment != 0 {
		return errors.New(`"fragment" splits a message, not a crafted frame`)
	}
	spec := wire.FrameSpec{Fin: j.Fin == nil || *j.Fin, Op: a.op, Payload: p, Mask: wire.MaskAuto}
	if j.LenEnc != nil {
		switch enc := *j.LenEnc; enc {
		case 7, 16, 64:
			spec.LenEnc = inspect.LengthEncoding(enc)
		default:
			return fmt.Errorf("len_enc %d: want 7, 16 or 64", enc)
		}
	}
	for i, set := range []bool{j.Rsv1, j.Rsv2, j.Rsv3} {
		if set {
			spec.Rsv |= inspect.Rsv1 >> i
		}
	}
	if len(j.Mask) > 0 {
		var m string
		if json.Unmarshal(j.Mask, &m) != nil {
			return errors.New("mask must be a string")
		}
		if err := setFrameField(&spec, "mask", m); err != nil {
			return err
		}
	}
	if j.Masked != nil {
		switch {
		case !*j.Masked && spec.Mask == wire.MaskWith:
			return errors.New(`"masked":false with a mask key`)
		case *j.Masked && spec.Mask == wire.MaskNone:
			return errors.New(`"masked":true with "mask":"none"`)
		case !*j.Masked:
			spec.Mask = wire.MaskNone
		case spec.Mask == wire.MaskAuto:
			// Masked whichever side sends it: a server's auto is unmasked.
			spec.Mask = wire.MaskWith
			crand.Read(spec.Key[:])
		}
	}
	if j.Len != nil && *j.Len != uint64(len(p)) {
		spec.Length = j.Len
	}
	if err := spec.Check(); err != nil {
		return err
	}
	a.kind, a.frame = actFrame, spec
	return nil
}

// sleep fills a with the pause j asks for.
func (j *jsonAction) sleep(a *action) error {
	if j.Op != "" || j.Text != nil || j.B64 != nil || j.Hex != nil || j.Fragment != 0 || j.Code != nil || j.Reason != nil || j.Close != nil || j.crafted() {
		return errors.New(`"sleep" goes on a line of its own`)
	}
	ns := *j.Sleep * float64(time.Second)
	if !(ns >= 0 && ns < math.MaxInt64) {
		return fmt.Errorf("sleep %g: want seconds from 0 to %.0f", *j.Sleep, float64(math.MaxInt64)/float64(time.Second))
	}
	a.kind, a.sleep = actSleep, time.Duration(ns)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

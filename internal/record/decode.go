package record

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/wscope/wscope/inspect"
)

var kindByName = map[string]inspect.Kind{
	"open": inspect.KindOpen, "frame": inspect.KindFrame, "msg": inspect.KindMsg,
	"end": inspect.KindEnd, "error": inspect.KindError, "gap": inspect.KindGap,
	"mark": inspect.KindMark, "note": inspect.KindNote,
}

// Known rule names and sections, so reading violations allocates only
// their message.
var (
	knownRules    = map[string]inspect.Rule{}
	knownSections = map[string]string{}
)

func init() {
	for _, r := range inspect.Rules() {
		knownRules[string(r)] = r
		knownSections[r.Section()] = r.Section()
	}
}

// key returns a member name, unescaped if it needs to be.
func (r *Reader) key(raw []byte, esc bool) []byte {
	if !esc {
		return raw
	}
	r.keybuf = unquote(r.keybuf[:0], raw)
	return r.keybuf
}

// wantErr names the key whose value had the wrong type.
func wantErr(err error, key, want string) error {
	if err == errWrongType {
		return fieldErr("%q: want %s", key, want)
	}
	return err
}

func (r *Reader) getBool(key string) (bool, bool, error) {
	v, ok, err := r.sc.boolean()
	return v, ok, wantErr(err, key, "true or false")
}

func (r *Reader) getNumber(key, want string) ([]byte, bool, error) {
	v, ok, err := r.sc.number()
	return v, ok, wantErr(err, key, want)
}

func (r *Reader) getUint(key string, max uint64) (uint64, bool, error) {
	text, ok, err := r.getNumber(key, "a non-negative integer")
	if !ok || err != nil {
		return 0, ok, err
	}
	n, valid := parseUint(text, max)
	if !valid {
		return 0, false, fieldErr("%q: %s is not an integer from 0 to %d", key, text, max)
	}
	return n, true, nil
}

func (r *Reader) getInt(key string) (int, bool, error) {
	text, ok, err := r.getNumber(key, "an integer")
	if !ok || err != nil {
		return 0, ok, err
	}
	n, valid := parseInt(text)
	if !valid || n != int64(int(n)) {
		return 0, false, fieldErr("%q: %s is not an integer", key, text)
	}
	return int(n), true, nil
}

// getBytes returns a string value's contents, unescaped into r.scratch
// when needed: valid until the next call.
func (r *Reader) getBytes(key string) ([]byte, bool, error) {
	raw, esc, ok, err := r.sc.rawString()
	if err != nil {
		return nil, false, wantErr(err, key, "a string")
	}
	if esc {
		r.scratch = unquote(r.scratch[:0], raw)
		return r.scratch, ok, nil
	}
	return raw, ok, nil
}

func (r *Reader) getString(key string) (string, bool, error) {
	b, ok, err := r.getBytes(key)
	return string(b), ok, err
}

func (r *Reader) getStrings(key string) ([]string, error) {
	ok, err := r.sc.open('[')
	if !ok {
		return nil, wantErr(err, key, "an array of strings")
	}
	out := []string{}
	n := 0
	for {
		more, err := r.sc.elem(&n)
		if err != nil || !more {
			return out, err
		}
		s, ok, err := r.getString(key)
		if err != nil {
			return nil, wantErr(err, key, "an array of strings")
		}
		if ok {
			out = append(out, s)
		}
	}
}

// decode reads one event line. skip reports a valid line of an event kind
// this version does not know.
func (r *Reader) decode(line []byte) (e *inspect.Event, skip bool, err error) {
	sc := &r.sc
	kind, name, err := r.findKind(line)
	if err != nil {
		return nil, false, err
	}
	sc.b, sc.i = line, 0
	sc.open('{')
	r.ev = inspect.Event{Kind: kind}
	switch kind {
	case inspect.KindFrame:
		err = r.decodeFrame(name)
	case inspect.KindMsg:
		err = r.decodeMsg(name)
	case inspect.KindOpen:
		err = r.decodeOpen(name)
	case inspect.KindEnd:
		err = r.decodeEnd(name)
	case 0:
		// An event of a later version: check that it is JSON, and pass.
		sc.i = 0
		if err = sc.skip(); err == nil {
			err = sc.end()
		}
		return nil, true, err
	default:
		err = r.decodeText(name)
	}
	if err != nil {
		return nil, false, err
	}
	if err := sc.end(); err != nil {
		return nil, false, err
	}
	return &r.ev, false, nil
}

// findKind reads "ev", which the writer puts second, so this costs little.
// name is its spelling, for messages.
func (r *Reader) findKind(line []byte) (inspect.Kind, string, error) {
	sc := &r.sc
	sc.b, sc.i = line, 0
	ok, err := sc.open('{')
	if !ok {
		if err == nil || err == errWrongType {
			if err := sc.end(); err != nil {
				return 0, "", err
			}
			return 0, "", errors.New("not a JSON object")
		}
		return 0, "", err
	}
	header := false
	n := 0
	for {
		key, esc, more, err := sc.member(&n)
		if err != nil {
			return 0, "", err
		}
		if !more {
			break
		}
		switch string(r.key(key, esc)) {
		case "ev":
			r.evAt = sc.i
			name, ok, err := r.getBytes("ev")
			r.evEnd = sc.i
			if err != nil {
				return 0, "", err
			}
			if !ok {
				continue
			}
			k, known := kindByName[string(name)]
			if !known {
				return 0, string(name), nil
			}
			return k, k.String(), nil
		case "wsrec":
			header = true
		}
		if err := sc.skip(); err != nil {
			return 0, "", err
		}
	}
	if err := sc.end(); err != nil {
		return 0, "", err
	}
	if header {
		return 0, "", errHeaderLine
	}
	return 0, "", errNoKind
}

// What findKind says of a JSON object that is not an event line.
var (
	errHeaderLine = errors.New("a second recording header: were two recordings concatenated?")
	errNoKind     = errors.New(`event without "ev"`)
)

// fields walks the members of an event line: the common keys (t, ev,
// conn) are read here, every other key is handed to f with the scanner on
// its value, which f must consume.
func (r *Reader) fields(name string, f func(key []byte) error) error {
	sc := &r.sc
	n := 0
	for {
		key, esc, more, err := sc.member(&n)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		key = r.key(key, esc)
		if done, err := r.common(key, name); done {
			if err != nil {
				return err
			}
			continue
		}
		if err := f(key); err != nil {
			return err
		}
	}
}

// common handles the keys every event has. It reports whether key was one.
func (r *Reader) common(key []byte, name string) (bool, error) {
	switch string(key) {
	case "t":
		text, ok, err := r.getNumber("t", "a number of seconds")
		if err != nil || !ok {
			return true, err
		}
		d, valid := parseSeconds(text)
		if !valid {
			return true, fieldErr(`"t": %s is not a time in seconds`, text)
		}
		r.ev.T = d
		return true, nil
	case "conn":
		n, ok, err := r.getInt("conn")
		if ok {
			r.ev.Conn = n
		}
		return true, err
	case "ev":
		if r.sc.i == r.evAt {
			r.sc.i = r.evEnd // read by findKind already
			return true, nil
		}
		b, ok, err := r.getBytes("ev")
		if err == nil && ok && string(b) != name {
			err = fieldErr(`two "ev" keys: %q and %q`, name, b)
		}
		return true, err
	}
	return false, nil
}

func (r *Reader) getDir(key string) (inspect.Direction, bool, error) {
	b, ok, err := r.getBytes(key)
	if err != nil || !ok {
		return 0, false, err
	}
	switch string(b) {
	case "c2s":
		return inspect.ClientToServer, true, nil
	case "s2c":
		return inspect.ServerToClient, true, nil
	}
	d, err := inspect.ParseDirection(string(b))
	if err != nil {
		return 0, false, fieldErr("%q: %v", key, err)
	}
	return d, true, nil
}

func (r *Reader) getOp(key string) (inspect.OpCode, bool, error) {
	b, ok, err := r.getBytes(key)
	if err != nil || !ok {
		return 0, false, err
	}
	switch string(b) {
	case "text":
		return inspect.OpText, true, nil
	case "binary":
		return inspect.OpBinary, true, nil
	case "cont":
		return inspect.OpContinuation, true, nil
	}
	op, err := inspect.ParseOpCode(string(b))
	if err != nil {
		return 0, false, fieldErr("%q: %v", key, err)
	}
	return op, true, nil
}

// payload reads "text" or "b64" into r.payload (or, for text without
// escapes, a slice of the line itself).
func (r *Reader) getPayload(key string, b64 bool) ([]byte, bool, error) {
	sc := &r.sc
	switch sc.kind() {
	case '"':
	case 'n':
		return nil, false, sc.lit("null")
	default:
		return nil, false, wantErr(sc.wrong(), key, "a string")
	}
	if !b64 {
		p, copied, err := sc.strDecode(r.payload[:0])
		if copied {
			r.payload = p
		}
		return p, err == nil, err
	}
	raw, copied, err := sc.strDecode(r.scratch[:0])
	if err != nil {
		return nil, false, err
	}
	if copied {
		r.scratch = raw
	}
	n := base64.StdEncoding.DecodedLen(len(raw))
	if cap(r.payload) < n {
		r.payload = make([]byte, n)
	}
	m, err := base64.StdEncoding.Decode(r.payload[:n], raw)
	if err != nil {
		return nil, false, fieldErr(`"b64": %v`, err)
	}
	return r.payload[:m], true, nil
}

// getViolations reads a "violations" array.
func (r *Reader) getViolations() ([]inspect.Violation, error) {
	sc := &r.sc
	ok, err := sc.open('[')
	if !ok {
		return nil, wantErr(err, "violations", "an array")
	}
	r.viols = r.viols[:0]
	n := 0
	for {
		more, err := sc.elem(&n)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		ok, err := sc.open('{')
		if !ok {
			if err != nil {
				return nil, wantErr(err, "violations", "an array of objects")
			}
			continue
		}
		var v inspect.Violation
		m := 0
		for {
			key, esc, more, err := sc.member(&m)
			if err != nil {
				return nil, err
			}
			if !more {
				break
			}
			switch string(r.key(key, esc)) {
			case "rule":
				var b []byte
				if b, _, err = r.getBytes("violations.rule"); err == nil {
					if known, ok := knownRules[string(b)]; ok {
						v.Rule = known
					} else {
						v.Rule = inspect.Rule(b)
					}
				}
			case "section":
				var b []byte
				if b, _, err = r.getBytes("violations.section"); err == nil {
					if known, ok := knownSections[string(b)]; ok {
						v.Section = known
					} else {
						v.Section = string(b)
					}
				}
			case "msg":
				v.Message, _, err = r.getString("violations.msg")
			default:
				err = sc.skip()
			}
			if err != nil {
				return nil, err
			}
		}
		r.viols = append(r.viols, v)
	}
	if len(r.viols) == 0 {
		return nil, nil
	}
	return r.viols, nil
}

// Presence bits for the keys whose absence matters.
const (
	hasDir = 1 << iota
	hasOp
	hasMask
	hasLen
	hasLenEnc
	hasText
	hasB64
	hasWireLen
)

func (r *Reader) decodeFrame(name string) error {
	sc := &r.sc
	f := &r.frame
	*f = inspect.Frame{}
	r.inMsg = false
	var (
		has     int
		payload []byte
		lenEnc  uint64
		rsv     [3]bool
	)
	if err := r.fields(name, func(key []byte) (err error) {
		var ok bool
		switch string(key) {
		case "seq":
			f.Seq, _, err = r.getUint("seq", 1<<64-1)
		case "dir":
			if f.Dir, ok, err = r.getDir("dir"); ok {
				has |= hasDir
			}
		case "fin":
			f.Fin, _, err = r.getBool("fin")
		case "rsv1":
			rsv[0], _, err = r.getBool("rsv1")
		case "rsv2":
			rsv[1], _, err = r.getBool("rsv2")
		case "rsv3":
			rsv[2], _, err = r.getBool("rsv3")
		case "op":
			if f.Op, ok, err = r.getOp("op"); ok {
				has |= hasOp
			}
		case "masked":
			f.Masked, _, err = r.getBool("masked")
		case "mask":
			var b []byte
			if b, ok, err = r.getBytes("mask"); ok {
				if len(b) != 8 {
					return fieldErr(`"mask": %q is not 8 hex digits`, b)
				}
				if _, herr := hex.Decode(f.Mask[:], b); herr != nil {
					return fieldErr(`"mask": %q is not 8 hex digits`, b)
				}
				has |= hasMask
			}
		case "len":
			if f.Length, ok, err = r.getUint("len", 1<<64-1); ok {
				has |= hasLen
			}
		case "len_enc":
			if lenEnc, ok, err = r.getUint("len_enc", 64); ok {
				has |= hasLenEnc
			}
		case "text":
			if payload, ok, err = r.getPayload("text", false); ok {
				has |= hasText
			}
		case "b64":
			if payload, ok, err = r.getPayload("b64", true); ok {
				has |= hasB64
			}
		case "close":
			err = r.getClose()
		case "violations":
			f.Violations, err = r.getViolations()
		case "payload":
			// "msg": the payload is the msg event's, on the next line.
			var b []byte
			b, _, err = r.getBytes("payload")
			r.inMsg = string(b) == "msg"
		default: // "truncated" is derived: len says more than the payload holds
			err = sc.skip()
		}
		return err
	}); err != nil {
		return err
	}
	switch {
	case has&hasDir == 0:
		return fieldErr(`%s event without "dir"`, name)
	case has&hasOp == 0:
		return fieldErr(`%s event without "op"`, name)
	case has&(hasText|hasB64) == hasText|hasB64:
		return fieldErr(`%s event with both "text" and "b64"`, name)
	case f.Masked && has&hasMask == 0:
		return fieldErr(`masked frame without "mask"`)
	}
	if !f.Masked {
		f.Mask = [4]byte{}
	}
	for i, set := range rsv {
		if set {
			f.Rsv |= inspect.Rsv1 >> i
		}
	}
	if has&hasLen == 0 {
		f.Length = uint64(len(payload))
	} else if uint64(len(payload)) > f.Length {
		return fieldErr(`frame payload has %d bytes, more than its "len" of %d`, len(payload), f.Length)
	}
	f.LenEnc = inspect.MinimalLengthEncoding(f.Length)
	if has&hasLenEnc != 0 {
		switch enc := inspect.LengthEncoding(lenEnc); {
		case enc != inspect.Len7 && enc != inspect.Len16 && enc != inspect.Len64:
			return fieldErr(`"len_enc": %d is not 7, 16 or 64`, lenEnc)
		case enc == inspect.Len7 && f.Length > 125, enc == inspect.Len16 && f.Length > 0xFFFF:
			return fieldErr(`"len_enc": %d bits cannot hold a length of %d`, lenEnc, f.Length)
		default:
			f.LenEnc = enc
		}
	}
	if f.Close != nil && f.Op == inspect.OpClose && uint64(len(payload)) == f.Length {
		// The payload holds the close body byte for byte, where the
		// "close" object has the reason as JSON text (invalid UTF-8
		// replaced): take it from there, as the dissector did.
		if c, ok := inspect.ParseClose(payload); ok {
			r.close = c
		}
	}
	f.Payload = payload
	if f.Payload == nil {
		f.Payload = r.payload[:0]
	}
	f.Raw = inspect.AppendHeader(r.raw[:0], f.Header)
	r.ev.Frame = f
	return nil
}

// getClose reads a frame's "close" object.
func (r *Reader) getClose() error {
	c := &r.close
	if err := r.getCloseInto("close", c); err != nil {
		return err
	}
	r.frame.Close = c
	return nil
}

// getCloseInto reads {"code":N,"reason":"..."} ("name" is derived from the
// code).
func (r *Reader) getCloseInto(key string, c *inspect.Close) error {
	*c = inspect.Close{}
	return r.object(key, "an object", func(k string) (err error) {
		switch k {
		case "code":
			var code uint64
			code, _, err = r.getUint(key+".code", 0xFFFF)
			c.Code = inspect.CloseCode(code)
		case "reason":
			c.Reason, _, err = r.getString(key + ".reason")
		default:
			err = r.sc.skip()
		}
		return err
	})
}

func (r *Reader) decodeMsg(name string) error {
	sc := &r.sc
	m := &r.msg
	*m = inspect.Message{}
	var has int
	if err := r.fields(name, func(key []byte) (err error) {
		var ok bool
		switch string(key) {
		case "dir":
			if m.Dir, ok, err = r.getDir("dir"); ok {
				has |= hasDir
			}
		case "op":
			if m.Op, ok, err = r.getOp("op"); ok {
				has |= hasOp
			}
		case "frames":
			m.Frames, err = r.getFrames()
		case "frame_count":
			m.FrameCount, _, err = r.getInt("frame_count")
		case "deflated":
			m.Deflated, _, err = r.getBool("deflated")
		case "wire_len":
			if m.WireLen, ok, err = r.getInt("wire_len"); ok {
				has |= hasWireLen
			}
		case "text":
			if m.Payload, ok, err = r.getPayload("text", false); ok {
				has |= hasText
			}
		case "b64":
			if m.Payload, ok, err = r.getPayload("b64", true); ok {
				has |= hasB64
			}
		case "violations":
			m.Violations, err = r.getViolations()
		case "decoded":
			m.Decoded, err = r.getDecoded()
		default:
			err = sc.skip()
		}
		return err
	}); err != nil {
		return err
	}
	switch {
	case has&hasDir == 0:
		return fieldErr(`%s event without "dir"`, name)
	case has&hasOp == 0:
		return fieldErr(`%s event without "op"`, name)
	case has&(hasText|hasB64) == hasText|hasB64:
		return fieldErr(`%s event with both "text" and "b64"`, name)
	}
	if m.Payload == nil {
		m.Payload = r.payload[:0]
	}
	if has&hasWireLen == 0 || !m.Deflated {
		// Only a compressed message has a wire size of its own.
		m.WireLen = len(m.Payload)
	}
	r.ev.Msg = m
	return nil
}

func (r *Reader) getFrames() ([]uint64, error) {
	ok, err := r.sc.open('[')
	if !ok {
		return nil, wantErr(err, "frames", "an array of frame numbers")
	}
	r.frames = r.frames[:0]
	n := 0
	for {
		more, err := r.sc.elem(&n)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		seq, ok, err := r.getUint("frames", 1<<64-1)
		if err != nil {
			return nil, err
		}
		if ok {
			r.frames = append(r.frames, seq)
		}
	}
	if len(r.frames) == 0 {
		return nil, nil
	}
	return r.frames, nil
}

func (r *Reader) decodeEnd(name string) error {
	sc := &r.sc
	e := &r.end
	*e = inspect.End{}
	if err := r.fields(name, func(key []byte) (err error) {
		switch string(key) {
		case "clean":
			e.Clean, _, err = r.getBool("clean")
		case "code":
			var code uint64
			code, _, err = r.getUint("code", 0xFFFF)
			e.Code = inspect.CloseCode(code)
		case "reason":
			e.Reason, _, err = r.getString("reason")
		case "closer":
			e.Closer, _, err = r.getString("closer")
		case "tcp":
			e.TCP, _, err = r.getString("tcp")
		case "error":
			e.Err, _, err = r.getString("error")
		case "closes":
			err = r.object("closes", "an object", func(k string) error {
				var c inspect.Close
				switch k {
				case "c2s":
					e.ClientClose = &c
				case "s2c":
					e.ServerClose = &c
				default:
					return sc.skip()
				}
				return r.getCloseInto("closes."+k, &c)
			})
		case "violations":
			e.Violations, _, err = r.getInt("violations")
		case "first_violation":
			e.FirstViolation, err = r.getViolationAt()
		default: // "name" is derived from the code
			err = sc.skip()
		}
		return err
	}); err != nil {
		return err
	}
	r.ev.End = e
	return nil
}

// getViolationAt reads an end event's first_violation.
func (r *Reader) getViolationAt() (*inspect.ViolationAt, error) {
	v := &inspect.ViolationAt{}
	err := r.object("first_violation", "an object", func(k string) (err error) {
		switch k {
		case "rule":
			var s string
			s, _, err = r.getString("first_violation.rule")
			v.Rule = inspect.Rule(s)
		case "section":
			v.Section, _, err = r.getString("first_violation.section")
		case "msg":
			v.Message, _, err = r.getString("first_violation.msg")
		case "dir":
			v.Dir, _, err = r.getDir("first_violation.dir")
		case "seq":
			v.Seq, _, err = r.getUint("first_violation.seq", 1<<64-1)
		default:
			err = r.sc.skip()
		}
		return err
	})
	return v, err
}

// decodeText reads error, gap, mark and note events.
func (r *Reader) decodeText(name string) error {
	return r.fields(name, func(key []byte) (err error) {
		if string(key) == "text" {
			r.ev.Text, _, err = r.getString("text")
		} else {
			err = r.sc.skip()
		}
		return err
	})
}

// decodeOpen reads an open event. Open events are rare, so this one
// allocates freely: a fresh *inspect.Open each time.
func (r *Reader) decodeOpen(name string) error {
	sc := &r.sc
	o := &inspect.Open{}
	if err := r.fields(name, func(key []byte) (err error) {
		switch string(key) {
		case "url":
			o.URL, _, err = r.getString("url")
		case "role":
			var s string
			s, _, err = r.getString("role")
			o.Role = inspect.Role(s)
		case "request":
			err = r.getRequest(&o.Request)
		case "response":
			err = r.getResponse(&o.Response)
		case "subprotocol":
			o.Subprotocol, _, err = r.getString("subprotocol")
		case "extensions":
			o.Extensions, err = r.getExtensions()
		case "local":
			o.Local, _, err = r.getString("local")
		case "remote":
			o.Remote, _, err = r.getString("remote")
		case "tls":
			o.TLS, err = r.getTLS()
		case "start":
			var s string
			var ok bool
			if s, ok, err = r.getString("start"); ok {
				if o.Start, err = time.Parse(time.RFC3339Nano, s); err != nil {
					return fieldErr(`"start": %q is not an RFC 3339 time`, s)
				}
			}
		case "decoder":
			err = r.getDecoder(o)
		default:
			err = sc.skip()
		}
		return err
	}); err != nil {
		return err
	}
	r.ev.Open = o
	return nil
}

// object walks the members of an object value, calling f on each key with
// the scanner on its value; f must consume the value.
func (r *Reader) object(key, want string, f func(k string) error) error {
	sc := &r.sc
	ok, err := sc.open('{')
	if !ok {
		return wantErr(err, key, want)
	}
	m := 0
	for {
		k, esc, more, err := sc.member(&m)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if err := f(string(r.key(k, esc))); err != nil {
			return err
		}
	}
}

// objects reads key's array of objects, calling field on each member of
// each element with the scanner on its value; field must consume the value.
// A null element stands as T's zero value.
func objects[T any](r *Reader, key string, field func(v *T, k string) error) ([]T, error) {
	sc := &r.sc
	ok, err := sc.open('[')
	if !ok {
		return nil, wantErr(err, key, "an array")
	}
	var out []T
	n := 0
	for {
		more, err := sc.elem(&n)
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
		var v T
		err = r.object(key, "an array of objects", func(k string) error { return field(&v, k) })
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (r *Reader) getRequest(q *inspect.Request) error {
	return r.object("request", "an object", func(k string) (err error) {
		switch k {
		case "method":
			q.Method, _, err = r.getString("request.method")
		case "target":
			q.Target, _, err = r.getString("request.target")
		case "proto":
			q.Proto, _, err = r.getString("request.proto")
		case "headers":
			q.Headers, err = r.getPairs("request.headers")
		default:
			err = r.sc.skip()
		}
		return err
	})
}

func (r *Reader) getResponse(p *inspect.Response) error {
	return r.object("response", "an object", func(k string) (err error) {
		switch k {
		case "proto":
			p.Proto, _, err = r.getString("response.proto")
		case "status":
			var n int
			var ok bool
			if n, ok, err = r.getInt("response.status"); ok {
				p.Status = n
			}
		case "reason":
			p.Reason, _, err = r.getString("response.reason")
		case "headers":
			p.Headers, err = r.getPairs("response.headers")
		default:
			err = r.sc.skip()
		}
		return err
	})
}

// getPairs reads [[name, value], ...].
func (r *Reader) getPairs(key string) ([]inspect.HeaderField, error) {
	const want = "an array of [name, value] pairs"
	sc := &r.sc
	ok, err := sc.open('[')
	if !ok {
		return nil, wantErr(err, key, want)
	}
	var out []inspect.HeaderField
	n := 0
	for {
		more, err := sc.elem(&n)
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
		ok, err := sc.open('[')
		if !ok {
			if err != nil {
				return nil, wantErr(err, key, want)
			}
			continue
		}
		var pair [2]string
		m := 0
		for {
			more, err := sc.elem(&m)
			if err != nil {
				return nil, err
			}
			if !more {
				break
			}
			if m > 2 {
				return nil, fieldErr("%q: want %s, got more than two strings", key, want)
			}
			if pair[m-1], _, err = r.getString(key); err != nil {
				return nil, wantErr(err, key, want)
			}
		}
		if m != 2 {
			return nil, fieldErr("%q: want %s, got %d strings", key, want, m)
		}
		out = append(out, inspect.HeaderField{Name: pair[0], Value: pair[1]})
	}
}

func (r *Reader) getExtensions() ([]inspect.Extension, error) {
	return objects(r, "extensions", func(x *inspect.Extension, k string) (err error) {
		switch k {
		case "name":
			x.Name, _, err = r.getString("extensions.name")
		case "params":
			x.Params, err = r.getPairs("extensions.params")
		default:
			err = r.sc.skip()
		}
		return err
	})
}

func (r *Reader) getTLS() (*inspect.TLSInfo, error) {
	if r.sc.peek() == 'n' {
		return nil, r.sc.lit("null")
	}
	t := &inspect.TLSInfo{}
	err := r.object("tls", "an object", func(k string) (err error) {
		switch k {
		case "version":
			t.Version, _, err = r.getString("tls.version")
		case "cipher":
			t.Cipher, _, err = r.getString("tls.cipher")
		case "sni":
			t.SNI, _, err = r.getString("tls.sni")
		case "peer_subject":
			t.PeerSubject, _, err = r.getString("tls.peer_subject")
		case "client_subject":
			t.ClientSubject, _, err = r.getString("tls.client_subject")
		case "client_issuer":
			t.ClientIssuer, _, err = r.getString("tls.client_issuer")
		case "client_sha256":
			t.ClientSHA256, _, err = r.getString("tls.client_sha256")
		default:
			err = r.sc.skip()
		}
		return err
	})
	return t, err
}

package inspect

import (
	"net/url"
	"slices"
	"strings"
)

// Redacted is the value that replaces a secret in a recording.
const Redacted = "[redacted]"

// CredentialHeaders are the headers whose values recordings replace by
// Redacted unless the user keeps secrets: the credentials of RFC 9110 and
// RFC 6265, and the API keys and tokens that services take in headers of
// their own. Matched case-insensitively.
var CredentialHeaders = []string{
	"Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization",
	"X-Api-Key", "Api-Key", "X-Auth-Token", "X-Access-Token", "X-Csrf-Token", "X-Xsrf-Token",
	"X-Amz-Security-Token", "X-Goog-Api-Key", "Ocp-Apim-Subscription-Key",
}

// CredentialParams are the query parameters whose values recordings
// replace by Redacted, in the URL and the request target: the names
// browsers' WebSocket clients use for a token (they cannot set headers),
// OAuth's, and those of pre-signed URLs. Matched case-insensitively,
// after percent-decoding.
var CredentialParams = []string{
	"token", "access_token", "id_token", "refresh_token", "auth", "auth_token", "authorization",
	"api_key", "apikey", "api-key", "key", "password", "passwd", "secret", "client_secret",
	"signature", "sig", "jwt", "session_token",
	"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token",
}

// BearerSubprotocol is the prefix of the subprotocol in which Kubernetes
// clients carry a bearer token (browsers cannot send Authorization):
// base64url.bearer.authorization.k8s.io.<token>. What follows the prefix
// is redacted wherever a subprotocol appears.
const BearerSubprotocol = "base64url.bearer.authorization.k8s.io."

// Redaction says which secrets a recording leaves out. The zero value
// redacts nothing; NewRedaction returns the defaults.
type Redaction struct {
	headers []string
	params  []string
	bearer  bool
}

// NewRedaction returns the default redaction (CredentialHeaders,
// CredentialParams and BearerSubprotocol) extended by extra: each extra
// name is redacted both as a header and as a query parameter.
func NewRedaction(extra []string) *Redaction {
	r := &Redaction{
		headers: slices.Clone(CredentialHeaders),
		params:  slices.Clone(CredentialParams),
		bearer:  true,
	}
	for _, n := range extra {
		if !containsFold(r.headers, n) {
			r.headers = append(r.headers, n)
		}
		if !containsFold(r.params, n) {
			r.params = append(r.params, n)
		}
	}
	return r
}

// Names lists what r redacts, for the recording header's "redacted":
// header names as they are, query parameters as "?name", and the bearer
// subprotocol as its prefix followed by "*". nil for a nil Redaction.
func (r *Redaction) Names() []string {
	if r == nil {
		return nil
	}
	names := slices.Clone(r.headers)
	for _, p := range r.params {
		names = append(names, "?"+p)
	}
	if r.bearer {
		names = append(names, BearerSubprotocol+"*")
	}
	return names
}

// Open returns o with its secrets replaced by Redacted: the values of the
// listed headers in the request and the response, the values of the
// listed query parameters in the URL and the request target, and the
// token of a bearer subprotocol in Sec-WebSocket-Protocol and in the
// subprotocol. It returns o itself when there is nothing to replace, and
// never modifies it. A nil Redaction returns o.
func (r *Redaction) Open(o *Open) *Open {
	if r == nil || o == nil {
		return o
	}
	req, n1 := r.Headers(o.Request.Headers)
	resp, n2 := r.Headers(o.Response.Headers)
	u, n3 := r.Query(o.URL)
	target, n4 := r.Query(o.Request.Target)
	sub, n5 := r.subprotocols(o.Subprotocol)
	if !n1 && !n2 && !n3 && !n4 && !n5 {
		return o
	}
	c := *o
	c.Request.Headers, c.Response.Headers = req, resp
	c.URL, c.Request.Target, c.Subprotocol = u, target, sub
	return &c
}

// Event returns e with the secrets of an open event replaced (see Open);
// any other event, or one with nothing to replace, is e itself.
func (r *Redaction) Event(e *Event) *Event {
	if r == nil || e.Kind != KindOpen || e.Open == nil {
		return e
	}
	o := r.Open(e.Open)
	if o == e.Open {
		return e
	}
	c := *e
	c.Open = o
	return &c
}

// Headers returns hs with the values of the listed headers replaced, and
// bearer tokens taken out of Sec-WebSocket-Protocol; changed reports
// whether anything was. hs itself is not modified.
func (r *Redaction) Headers(hs []HeaderField) (out []HeaderField, changed bool) {
	out = hs
	for i, h := range hs {
		v := h.Value
		switch {
		case containsFold(r.headers, strings.TrimSpace(h.Name)):
			v = Redacted
		case r.bearer && strings.EqualFold(h.Name, "Sec-WebSocket-Protocol"):
			v, _ = r.subprotocols(v)
		}
		if v == h.Value {
			continue
		}
		if !changed {
			out = slices.Clone(hs)
			changed = true
		}
		out[i].Value = v
	}
	return out, changed
}

// Query returns u, a URL or a request target, with the values of the
// listed query parameters replaced. Everything else is kept byte for byte:
// the query is not decoded and encoded again. A parameter without a value
// has nothing to hide and stays.
func (r *Redaction) Query(u string) (string, bool) {
	q := strings.IndexByte(u, '?')
	if q < 0 || len(r.params) == 0 {
		return u, false
	}
	end := len(u)
	if h := strings.IndexByte(u[q:], '#'); h >= 0 {
		end = q + h
	}
	parts := strings.Split(u[q+1:end], "&")
	changed := false
	for i, p := range parts {
		name, value, eq := strings.Cut(p, "=")
		if eq && value != "" && value != Redacted && r.param(name) {
			parts[i] = name + "=" + Redacted
			changed = true
		}
	}
	if !changed {
		return u, false
	}
	return u[:q+1] + strings.Join(parts, "&") + u[end:], true
}

func (r *Redaction) param(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	return containsFold(r.params, name)
}

// subprotocols replaces the token of a bearer subprotocol in a
// comma-separated list of subprotocols, keeping the rest as it is.
func (r *Redaction) subprotocols(v string) (string, bool) {
	if !r.bearer || !strings.Contains(strings.ToLower(v), BearerSubprotocol) {
		return v, false
	}
	parts := strings.Split(v, ",")
	changed := false
	for i, p := range parts {
		tok := strings.TrimSpace(p)
		if len(tok) > len(BearerSubprotocol) && strings.EqualFold(tok[:len(BearerSubprotocol)], BearerSubprotocol) &&
			tok[len(BearerSubprotocol):] != Redacted {
			at := strings.Index(p, tok)
			parts[i] = p[:at] + tok[:len(BearerSubprotocol)] + Redacted + p[at+len(tok):]
			changed = true
		}
	}
	if !changed {
		return v, false
	}
	return strings.Join(parts, ","), true
}

func containsFold(list []string, name string) bool {
	for _, n := range list {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

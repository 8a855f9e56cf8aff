package authn

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"k8s.io/apiserver/pkg/authentication/authenticator"

	"github.com/authfilter/authfilter/internal/nilcheck"
)

// WebSocketBearerProtocolPrefix starts the Sec-WebSocket-Protocol entry in which Kubernetes
// websocket clients (browsers, kubectl's websocket streams) carry a bearer token where they
// cannot set an Authorization header: the prefix, then the token in unpadded base64url.
const WebSocketBearerProtocolPrefix = "base64url.bearer.authorization.k8s.io."

// WebSocketToken authenticates the bearer token of a websocket upgrade request carried in its
// Sec-WebSocket-Protocol header, as the kubelet does, with a token authenticator such as
// [Token]. Create it with [NewWebSocketToken]; it is safe for concurrent use.
//
// It never modifies the request. A filter passing the request on must drop the token's entry
// from the header (authfilter.Filter does).
type WebSocketToken struct {
	tokens authenticator.Token
}

var _ authenticator.Request = (*WebSocketToken)(nil)

// NewWebSocketToken returns a websocket protocol authenticator that checks tokens with tokens.
// A nil tokens is an error.
func NewWebSocketToken(tokens authenticator.Token) (*WebSocketToken, error) {
	if nilcheck.IsNil(tokens) {
		return nil, errors.New("authn: websocket token authenticator needs a token authenticator, got nil")
	}
	return &WebSocketToken{tokens: tokens}, nil
}

// AuthenticateRequest returns (nil, false, nil) for a request that is not a websocket upgrade
// or carries no bearer-token protocol entry. Otherwise the entry must be the only one of its
// kind, decode to a non-empty UTF-8 token, and come with at least one other subprotocol (the
// one the server answers with); anything else is an error, as is a token the authenticator
// rejects. Errors never quote the token.
func (a *WebSocketToken) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	if !isWebSocketUpgrade(r) {
		return nil, false, nil
	}
	token, others, err := webSocketBearerToken(r.Header)
	if err != nil || token == "" {
		return nil, false, err
	}
	if others == 0 {
		return nil, false, errors.New("websocket token: no subprotocol besides the bearer token")
	}
	return a.tokens.AuthenticateToken(r.Context(), token)
}

// webSocketBearerToken returns the decoded token of h's bearer-token protocol entry ("" when
// there is none) and how many other protocol entries h has.
func webSocketBearerToken(h http.Header) (token string, others int, err error) {
	seen := false
	for _, value := range h["Sec-Websocket-Protocol"] {
		for p := range strings.SplitSeq(value, ",") {
			p = strings.TrimSpace(p)
			encoded, isToken := strings.CutPrefix(p, WebSocketBearerProtocolPrefix)
			if !isToken {
				if p != "" {
					others++
				}
				continue
			}
			if seen {
				return "", 0, errors.New("websocket token: more than one bearer token protocol")
			}
			seen = true
			decoded, err := base64.RawURLEncoding.DecodeString(encoded)
			if err != nil || len(decoded) == 0 || !utf8.Valid(decoded) {
				return "", 0, errors.New("websocket token: malformed bearer token protocol")
			}
			token = string(decoded)
		}
	}
	return token, others, nil
}

// isWebSocketUpgrade reports whether r asks to upgrade to a websocket: a Connection header
// listing "upgrade" and an Upgrade header of "websocket".
func isWebSocketUpgrade(r *http.Request) bool {
	if !strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), "websocket") {
		return false
	}
	for _, v := range r.Header["Connection"] {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}

// WithoutWebSocketToken returns the value h's Sec-WebSocket-Protocol should have once its
// bearer-token entries are removed, and whether h had any. The server answers with one of the
// remaining subprotocols; the token never reaches the handler.
func WithoutWebSocketToken(h http.Header) (rest []string, had bool) {
	var kept []string
	for _, value := range h["Sec-Websocket-Protocol"] {
		for p := range strings.SplitSeq(value, ",") {
			p = strings.TrimSpace(p)
			switch {
			case strings.HasPrefix(p, WebSocketBearerProtocolPrefix):
				had = true
			case p != "":
				kept = append(kept, p)
			}
		}
	}
	if !had {
		return nil, false
	}
	if len(kept) == 0 {
		return nil, true
	}
	return []string{strings.Join(kept, ", ")}, true
}

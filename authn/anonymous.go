package authn

import (
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/internal/identity"
)

// Anonymous authenticates requests that carry no credential as user system:anonymous in group
// system:unauthenticated (the kubelet's authentication.anonymous.enabled). Create it with
// [NewAnonymous]; it is stateless and safe for concurrent use.
//
// A request counts as carrying a credential, and is then left alone ((nil, false, nil)), when
// it has an Authorization header (even an empty one), a TLS peer certificate, or a
// Kubernetes websocket bearer-token protocol. A credential that the authenticators before
// Anonymous did not accept can therefore never become anonymous access. Put Anonymous last.
//
// The response it returns is shared by every anonymous request and must be treated as
// read-only. The zero value works too, building a response per request.
type Anonymous struct {
	resp *authenticator.Response
}

var _ authenticator.Request = (*Anonymous)(nil)

// NewAnonymous returns the anonymous authenticator.
func NewAnonymous() *Anonymous { return &Anonymous{resp: anonymousResponse()} }

func anonymousResponse() *authenticator.Response {
	return responseFor(identity.New(user.Anonymous, "", []string{user.AllUnauthenticated}, nil), nil)
}

// AuthenticateRequest returns system:anonymous for a request without any credential and
// (nil, false, nil) otherwise. It never returns an error.
func (a *Anonymous) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	if hasCredential(r) {
		return nil, false, nil
	}
	if a.resp == nil {
		return anonymousResponse(), true, nil
	}
	return a.resp, true, nil
}

// hasCredential reports whether r presents anything that looks like a credential.
func hasCredential(r *http.Request) bool {
	// Direct lookups of the canonical keys: Header.Values would canonicalise on every call, and
	// finds exactly the same entries.
	if _, ok := r.Header["Authorization"]; ok {
		return true
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return true
	}
	for _, v := range r.Header["Sec-Websocket-Protocol"] {
		for p := range strings.SplitSeq(v, ",") {
			if strings.HasPrefix(strings.TrimSpace(p), WebSocketBearerProtocolPrefix) {
				return true
			}
		}
	}
	return false
}

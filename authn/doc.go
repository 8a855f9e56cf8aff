// Package authn answers "who is making this request?" for authfilter, the way the kubelet does:
// a client certificate verified against a client CA bundle ([X509] with a [StaticClientCA] or a
// watched [ClientCAFile]), a bearer token checked with a TokenReview against the API server
// ([Token]), and, when neither is present, the anonymous user ([Anonymous]).
//
// Every authenticator implements k8s.io/apiserver's authenticator.Request with its usual
// contract: (resp, true, nil) is a user, (nil, false, nil) means "this request carries no
// credential of my kind", and a non-nil error means a credential of my kind was presented and
// could not be accepted. [Union] chains them and [WithAuthenticatedGroup] adds the
// system:authenticated group, so the kubelet's chain reads
//
//	inner, _ := authn.NewUnion(x509, token)
//	chain, _ := authn.NewUnion(authn.WithAuthenticatedGroup(inner), authn.NewAnonymous())
//
// # Fail closed
//
// The package refuses whenever it is in doubt, and in places is stricter than upstream:
//
//   - A client certificate that does not verify (unknown CA, expired, not yet valid, no
//     clientAuth usage, empty CommonName, no CA bundle loaded) is an error, never "no credential".
//   - An Authorization header that is not a well-formed "Bearer <token>" is an error, not a
//     reason to try the next authenticator.
//   - [Union] stops at the first authenticator that returns a user OR an error: a bad
//     certificate sent together with a valid token is refused (upstream's union would go on and
//     accept the token).
//   - [Anonymous] answers only for requests that carry no credential at all, so a credential
//     that no authenticator accepted can never be downgraded to system:anonymous.
//   - TokenReview backend failures are errors and are never cached.
//
// Errors and log lines name the check that failed and never contain a token, key or certificate
// contents.
//
// All authenticators in this package are safe for concurrent use once constructed. The
// responses they return may be shared between requests (the token cache hands the same
// *authenticator.Response to every request with the same token) and must be treated as
// read-only.
package authn

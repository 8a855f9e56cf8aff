package authn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"

	"github.com/authfilter/authfilter/internal/cache"
	"github.com/authfilter/authfilter/internal/identity"
	"github.com/authfilter/authfilter/internal/nilcheck"
	"github.com/authfilter/authfilter/internal/retry"
)

const (
	// DefaultTokenCacheTTL is how long TokenReview results are cached when
	// TokenOptions.CacheTTL is zero (the kubelet's authentication.webhook.cacheTTL default).
	DefaultTokenCacheTTL = 2 * time.Minute
	// DefaultTokenTimeout bounds one TokenReview call when TokenOptions.Timeout is zero.
	DefaultTokenTimeout = 10 * time.Second
)

// TokenOptions tune a [Token]. The zero value is valid.
type TokenOptions struct {
	// Audiences are sent in every TokenReview's spec. Empty (the default) means the API
	// server's own audience. When set, a token whose reviewed audiences do not intersect them
	// is rejected. The slice is copied.
	Audiences []string
	// CacheTTL is how long a review result, authenticated or rejected, is reused for the same
	// token (as the kubelet does). Zero means DefaultTokenCacheTTL (2m); negative disables
	// caching. Backend errors are never cached.
	CacheTTL time.Duration
	// MaxCacheEntries bounds the cache, so a flood of bogus tokens cannot exhaust memory. Zero
	// means 10000; negative is an error.
	MaxCacheEntries int
	// Timeout bounds each TokenReview, retries included. Zero means DefaultTokenTimeout (10s);
	// negative is an error.
	Timeout time.Duration
	// RetryBackoff says how a review that failed transiently (connection reset, a 500, 504 or
	// 429 answer, Retry-After) is tried again, within Timeout. Nil means the kubelet's backoff:
	// up to 5 tries, 500ms apart at first, growing 1.5x. Steps: 1 means a single try.
	RetryBackoff *wait.Backoff
	// Logger receives backend failures and rejections (never a token). The zero value
	// discards them.
	Logger logr.Logger
	// Now is the cache's clock. Nil means time.Now.
	Now func() time.Time
}

// Token authenticates bearer tokens with a TokenReview sent to the API server, the kubelet's
// authentication.webhook mode. Create it with [NewToken]; it is safe for concurrent use.
//
// Results are cached under a keyed hash of the token (never the token itself), and concurrent
// requests with the same uncached token share one TokenReview. A cached user is immutable and
// compact: users with the same groups and extra keys share one copy of them. The caller needs
// RBAC permission to create tokenreviews.authentication.k8s.io (the system:auth-delegator
// ClusterRole grants it).
type Token struct {
	client    authenticationv1client.TokenReviewInterface
	audiences []string
	ttl       time.Duration
	timeout   time.Duration
	backoff   wait.Backoff
	logger    logr.Logger
	hasher    *cache.Hasher
	cache     *cache.Cache[*tokenResult]
	shapes    *identity.Shapes
}

// tokenResult is what the cache holds for a token: the response and its immutable user in one
// allocation, or the reason the token was rejected.
type tokenResult struct {
	resp   authenticator.Response // resp.User is &user
	user   identity.User
	reject error
}

var (
	_ authenticator.Request = (*Token)(nil)
	_ authenticator.Token   = (*Token)(nil)
)

// NewToken returns a TokenReview authenticator that sends its reviews through client, e.g.
// clientset.AuthenticationV1().TokenReviews(). A nil client is an error.
func NewToken(client authenticationv1client.TokenReviewInterface, opts TokenOptions) (*Token, error) {
	if nilcheck.IsNil(client) {
		return nil, errors.New("authn: token authenticator needs a TokenReview client, got nil")
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("authn: token review timeout must not be negative, got %s", opts.Timeout)
	}
	if opts.MaxCacheEntries < 0 {
		return nil, fmt.Errorf("authn: token cache MaxCacheEntries must not be negative, got %d", opts.MaxCacheEntries)
	}
	for _, aud := range opts.Audiences {
		if aud == "" {
			return nil, errors.New("authn: token audiences must not contain an empty string")
		}
	}
	backoff, err := retry.Backoff(opts.RetryBackoff)
	if err != nil {
		return nil, fmt.Errorf("authn: token review: %w", err)
	}
	c, err := cache.New[*tokenResult](cache.Options{MaxEntries: opts.MaxCacheEntries, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("authn: token cache: %w", err)
	}
	h, err := cache.NewHasher()
	if err != nil {
		return nil, fmt.Errorf("authn: token cache: %w", err)
	}
	a := &Token{
		client:    client,
		audiences: slices.Clone(opts.Audiences),
		ttl:       opts.CacheTTL,
		timeout:   opts.Timeout,
		backoff:   backoff,
		logger:    opts.Logger,
		hasher:    h,
		cache:     c,
		shapes:    identity.NewShapes(0),
	}
	if a.ttl == 0 {
		a.ttl = DefaultTokenCacheTTL
	} else if a.ttl < 0 {
		a.ttl = 0 // cache.Do stores nothing for a ttl <= 0 but still merges concurrent misses
	}
	if a.timeout == 0 {
		a.timeout = DefaultTokenTimeout
	}
	return a, nil
}

// AuthenticateRequest returns (nil, false, nil) when r has no Authorization header. Otherwise
// the header must be exactly one "Bearer <token>" value (scheme case-insensitive, one or more
// spaces, a token without whitespace); anything else, a Basic header or an empty token for
// instance, is an error: a credential that cannot be used is refused, never ignored.
func (a *Token) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	values := r.Header["Authorization"] // the canonical key: what Header.Values would look up
	if len(values) == 0 {
		return nil, false, nil
	}
	if len(values) > 1 {
		return nil, false, errors.New("token: more than one Authorization header")
	}
	token, err := parseBearer(values[0])
	if err != nil {
		return nil, false, err
	}
	return a.AuthenticateToken(r.Context(), token)
}

// parseBearer extracts the token of a "Bearer <token>" header value. Its errors never quote
// the value.
func parseBearer(h string) (string, error) {
	h = strings.TrimSpace(h)
	scheme, rest, found := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") {
		return "", errors.New("token: Authorization header is not of the Bearer scheme")
	}
	token := strings.TrimLeft(rest, " ")
	if !found || token == "" {
		return "", errors.New("token: Authorization header has an empty bearer token")
	}
	if hasSpaceOrControl(token) {
		return "", errors.New("token: malformed bearer token (whitespace or control character inside)")
	}
	return token, nil
}

// hasSpaceOrControl reports whether s has a byte <= ' ' or DEL (0x7f). Bytes of multi-byte UTF-8
// sequences are >= 0x80, so this finds exactly the runes <= ' ' and DEL. It tests 32 bytes at a
// time: a service-account token is about 1 KB, and a byte-by-byte loop cost as much as hashing it.
func hasSpaceOrControl(s string) bool {
	i := 0
	for ; i+32 <= len(s); i += 32 {
		if badBytes(word(s, i))|badBytes(word(s, i+8))|badBytes(word(s, i+16))|badBytes(word(s, i+24)) != 0 {
			return true
		}
	}
	for ; i+8 <= len(s); i += 8 {
		if badBytes(word(s, i)) != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return true
		}
	}
	return false
}

// word returns the 8 bytes of s at i as an integer.
func word(s string, i int) uint64 { return binary.LittleEndian.Uint64([]byte(s[i : i+8])) }

// badBytes is non-zero exactly when a byte of x is < 0x21 or is 0x7f: the "has a byte less than
// n" test (exact for n <= 128) or'ed with the "has a zero byte" test of x ^ 0x7f7f...7f.
func badBytes(x uint64) uint64 {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	del := x ^ (0x7f * ones)
	return ((x-0x21*ones)&^x | (del-ones)&^del) & highs
}

// AuthenticateToken reviews token, or answers from the cache.
//
//   - authenticated: (resp, true, nil); resp is shared with other requests and is read-only,
//     and its user cannot change (GetGroups and GetExtra return fresh copies);
//   - rejected by the API server, or for none of the configured audiences: (nil, false, err)
//     with err "token rejected ...", cached like a success;
//   - the review failed (API server unreachable, timeout, ...): (nil, false, err) with err
//     "token review failed: ...", not cached;
//   - ctx ended while waiting: (nil, false, err) where errors.Is(err, ctx.Err()).
func (a *Token) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	if token == "" {
		return nil, false, errors.New("token: empty bearer token")
	}
	key := a.hasher.Begin().String(token).Strings(a.audiences).Sum()
	res, hit := a.cache.Get(key)
	if !hit {
		var err error
		res, err = a.cache.Do(ctx, key, func(ctx context.Context) (*tokenResult, time.Duration, error) {
			return a.review(ctx, token)
		})
		if err != nil {
			return nil, false, a.failed(ctx, err)
		}
	}
	if res.reject != nil {
		return nil, false, res.reject
	}
	return &res.resp, true, nil
}

// failed returns the error of a review that could not be answered.
func (a *Token) failed(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return fmt.Errorf("token review abandoned: %w", err)
	}
	return err
}

// review sends one TokenReview. A backend failure is returned as an error (so cache.Do does
// not store it); a rejection is a result, cached for the TTL.
func (a *Token) review(ctx context.Context, token string) (*tokenResult, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{
		Token:     token,
		Audiences: slices.Clone(a.audiences),
	}}
	var result *authenticationv1.TokenReview
	err := retry.Do(ctx, a.backoff, func(ctx context.Context) (err error) {
		result, err = a.client.Create(ctx, tr, metav1.CreateOptions{})
		return err
	})
	if err == nil && result == nil {
		err = errors.New("empty response")
	}
	if err != nil {
		err = fmt.Errorf("token review failed: %w", redactErr(err, token))
		a.logger.Error(err, "TokenReview request failed")
		return nil, 0, err
	}
	st := result.Status
	if !st.Authenticated {
		msg := "token rejected by the API server"
		if st.Error != "" {
			msg += ": " + redact(st.Error, token)
		}
		a.logger.V(2).Info("token rejected", "reason", redact(st.Error, token))
		return &tokenResult{reject: errors.New(msg)}, a.ttl, nil
	}
	if st.User.Username == "" {
		err := errors.New("token review failed: the API server authenticated the token but returned no username")
		a.logger.Error(err, "TokenReview response unusable")
		return nil, 0, err
	}
	auds := slices.Clone(st.Audiences)
	if len(a.audiences) > 0 {
		auds = authenticator.Audiences(a.audiences).Intersect(st.Audiences)
		if len(auds) == 0 {
			err := fmt.Errorf("token rejected: its audiences %q do not include any of %q", redactAll(st.Audiences, token), a.audiences)
			a.logger.V(2).Info("token rejected", "reason", err.Error())
			return &tokenResult{reject: err}, a.ttl, nil
		}
	}
	res := &tokenResult{user: identity.MakeUser(a.shapes, st.User.Username, st.User.UID, st.User.Groups, st.User.Extra)}
	res.resp = authenticator.Response{User: &res.user, Audiences: auds}
	return res, a.ttl, nil
}

package authz

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"

	"github.com/authfilter/authfilter/internal/cache"
	"github.com/authfilter/authfilter/internal/nilcheck"
	"github.com/authfilter/authfilter/internal/retry"
)

// Defaults of [SAROptions], the KubeletConfiguration v1beta1 defaults.
const (
	DefaultAllowCacheTTL = 5 * time.Minute
	DefaultDenyCacheTTL  = 30 * time.Second
	DefaultSARTimeout    = 10 * time.Second
)

// SAROptions tune a [SAR]. The zero value is valid.
type SAROptions struct {
	// AllowCacheTTL is how long an allowed decision is cached (the kubelet's
	// authorization.webhook.cacheAuthorizedTTL). Zero means DefaultAllowCacheTTL (5m); a
	// negative value disables caching of allowed decisions.
	AllowCacheTTL time.Duration
	// DenyCacheTTL is how long a denied or no-opinion decision is cached (the kubelet's
	// authorization.webhook.cacheUnauthorizedTTL). Zero means DefaultDenyCacheTTL (30s); a
	// negative value disables caching of those decisions.
	DenyCacheTTL time.Duration
	// MaxCacheEntries bounds the number of cached decisions. Zero means
	// cache.DefaultMaxEntries (10000); negative is an error.
	MaxCacheEntries int
	// Timeout bounds each SubjectAccessReview, retries included. Zero means DefaultSARTimeout
	// (10s); negative is an error.
	Timeout time.Duration
	// RetryBackoff says how a review that failed transiently (connection reset, a 500, 504 or
	// 429 answer, Retry-After) is tried again, within Timeout. Nil means the kubelet's backoff:
	// up to 5 tries, 500ms apart at first, growing 1.5x. Steps: 1 means a single try.
	RetryBackoff *wait.Backoff
	// Logger receives failed reviews (at error level) and review evaluation errors (at
	// V(0)). The zero value discards everything.
	Logger logr.Logger
	// Now is the cache's clock. Nil means time.Now.
	Now func() time.Time
}

// SAR authorizes by sending an authorization.k8s.io/v1 SubjectAccessReview to the API server,
// like the kubelet's --authorization-mode=Webhook. Create it with [NewSAR]; it is safe for
// concurrent use.
//
// Decisions are cached in one bounded cache, keyed by a keyed hash of every field of the review
// (see [SAR.Authorize]); identical reviews that miss the cache at the same time are sent once
// and share the answer. Failed reviews are never cached. A cache hit builds no review: the key
// is hashed from the attributes directly or, for a *user.DefaultInfo user object seen before,
// taken from a memo of the last 256 (user, attributes) pairs that is used only when the user's
// name, UID, groups and extra still equal the copies taken with the key.
//
// The identity behind the client needs this RBAC rule (a ClusterRole):
//
//	rules:
//	- apiGroups: ["authorization.k8s.io"]
//	  resources: ["subjectaccessreviews"]
//	  verbs: ["create"]
type SAR struct {
	client   authorizationv1client.SubjectAccessReviewInterface
	allowTTL time.Duration // <= 0: not cached
	denyTTL  time.Duration // <= 0: not cached
	timeout  time.Duration
	backoff  wait.Backoff
	logger   logr.Logger
	hasher   *cache.Hasher
	cache    *cache.Cache[verdict]
	memo     *keyMemo
}

// verdict is the cached part of a review's status.
type verdict struct {
	allowed, denied bool
	reason          string
}

var _ authorizer.Authorizer = (*SAR)(nil)

// NewSAR returns an authorizer that sends SubjectAccessReviews through client. A nil client,
// a negative Timeout or a negative MaxCacheEntries is an error.
func NewSAR(client authorizationv1client.SubjectAccessReviewInterface, opts SAROptions) (*SAR, error) {
	if nilcheck.IsNil(client) {
		return nil, errors.New("authz: SubjectAccessReview authorizer needs a client, got nil")
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("authz: SubjectAccessReview timeout must not be negative, got %s", opts.Timeout)
	}
	backoff, err := retry.Backoff(opts.RetryBackoff)
	if err != nil {
		return nil, fmt.Errorf("authz: SubjectAccessReview: %w", err)
	}
	c, err := cache.New[verdict](cache.Options{MaxEntries: opts.MaxCacheEntries, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("authz: SubjectAccessReview cache: %w", err)
	}
	h, err := cache.NewHasher()
	if err != nil {
		return nil, fmt.Errorf("authz: SubjectAccessReview cache: %w", err)
	}
	return &SAR{
		client:   client,
		allowTTL: orDefault(opts.AllowCacheTTL, DefaultAllowCacheTTL),
		denyTTL:  orDefault(opts.DenyCacheTTL, DefaultDenyCacheTTL),
		timeout:  orDefault(opts.Timeout, DefaultSARTimeout),
		backoff:  backoff,
		logger:   opts.Logger,
		hasher:   h,
		cache:    c,
		memo:     newKeyMemo(),
	}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Authorize sends (or finds in the cache) a SubjectAccessReview whose spec carries the user's
// name, UID, groups and extra, and either the resource attributes (namespace, verb, group,
// version, resource, subresource, name, and the field and label selectors) or the
// non-resource attributes (path, verb).
//
// The answer maps to a decision: allowed is DecisionAllow, denied is DecisionDeny, neither is
// DecisionNoOpinion, and both is DecisionDeny with an error. The reason is the review's
// reason, followed by its evaluation error if any. Allowed answers are cached for
// AllowCacheTTL, the others for DenyCacheTTL.
//
// Attributes without a user give DecisionDeny and an error, without a review. A review that
// fails gives DecisionNoOpinion and an error wrapping the client's, and is not cached. If ctx
// has already ended, Authorize returns DecisionNoOpinion and ctx's error without a review; if
// it ends while the review is in flight, Authorize returns the same, and the review itself goes
// on, bounded by Timeout, for the other callers waiting on it (and is cached for later ones).
func (a *SAR) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	if nilcheck.IsNil(attrs) {
		return authorizer.DecisionDeny, "", errors.New("authz: nil attributes; refusing without a SubjectAccessReview")
	}
	u := userOf(attrs)
	if nilcheck.IsNil(u) {
		return authorizer.DecisionDeny, "", errNoUser
	}
	if err := ctx.Err(); err != nil {
		return authorizer.DecisionNoOpinion, "", err
	}
	key, ok, v, hit := a.lookup(u, attrs)
	if hit {
		return v.decision()
	}
	spec, err := reviewSpec(attrs)
	if err != nil {
		return authorizer.DecisionDeny, "", err
	}
	if !ok {
		key = reviewKey(a.hasher, &spec)
	}
	v, err = a.cache.Do(ctx, key, func(ctx context.Context) (verdict, time.Duration, error) {
		return a.review(ctx, spec)
	})
	if err != nil {
		return authorizer.DecisionNoOpinion, "", err
	}
	return v.decision()
}

// lookup finds the cached verdict of (u, attrs) without building the review: it hashes the
// attributes directly, or takes their key from the memo when u is a *user.DefaultInfo or an
// immutable user seen before. A key found in the cache is remembered in the memo (a key that
// missed is not: most users seen once are never seen again). ok is false when attrs carry
// selectors; the caller then builds the review and its key.
func (a *SAR) lookup(u user.Info, attrs authorizer.Attributes) (key cache.Key, ok bool, v verdict, hit bool) {
	if hasSelectors(attrs) {
		return cache.Key{}, false, verdict{}, false
	}
	f := fieldsOf(attrs)
	memo := memoizable(u)
	var slot *atomic.Pointer[keyMemoEntry]
	if memo {
		slot = a.memo.slot(u, &f)
		if key, found := a.memo.lookup(slot, u, &f); found {
			v, hit := a.cache.Get(key)
			return key, true, v, hit
		}
	}
	key = attributesKey(a.hasher, u, &f)
	if v, hit = a.cache.Get(key); hit && memo {
		a.memo.remember(slot, u, &f, key)
	}
	return key, true, v, hit
}

// userOf returns the user of attrs, reading an *AttributesRecord's field directly (its methods
// have value receivers, so calling them through the pointer copies the record).
func userOf(attrs authorizer.Attributes) user.Info {
	if rec, ok := attrs.(*authorizer.AttributesRecord); ok {
		return rec.User
	}
	return attrs.GetUser()
}

// decision maps a review's answer to the authorizer's.
func (v verdict) decision() (authorizer.Decision, string, error) {
	switch {
	case v.allowed && v.denied:
		return authorizer.DecisionDeny, v.reason, errors.New("authz: SubjectAccessReview answered both allowed and denied")
	case v.denied:
		return authorizer.DecisionDeny, v.reason, nil
	case v.allowed:
		return authorizer.DecisionAllow, v.reason, nil
	default:
		return authorizer.DecisionNoOpinion, v.reason, nil
	}
}

// review sends one SubjectAccessReview and returns its verdict and how long to cache it.
func (a *SAR) review(ctx context.Context, spec authorizationv1.SubjectAccessReviewSpec) (verdict, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var resp *authorizationv1.SubjectAccessReview
	err := retry.Do(ctx, a.backoff, func(ctx context.Context) (err error) {
		resp, err = a.client.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		return err
	})
	if err == nil && resp == nil {
		err = errors.New("empty response")
	}
	if err != nil {
		a.logger.Error(err, "SubjectAccessReview failed", logValues(&spec)...)
		return verdict{}, 0, fmt.Errorf("subjectaccessreview failed: %w", err)
	}
	st := resp.Status
	v := verdict{allowed: st.Allowed, denied: st.Denied, reason: st.Reason}
	if st.EvaluationError != "" {
		a.logger.Info("SubjectAccessReview evaluation error",
			append(logValues(&spec), "allowed", st.Allowed, "denied", st.Denied, "evaluationError", st.EvaluationError)...)
		if v.reason != "" {
			v.reason += "; "
		}
		v.reason += "evaluation error: " + st.EvaluationError
	}
	if st.Allowed && !st.Denied {
		return v, a.allowTTL, nil
	}
	return v, a.denyTTL, nil
}

// logValues names the user and the attributes of spec for a log line. Extra is left out: it
// may carry credential identifiers.
func logValues(spec *authorizationv1.SubjectAccessReviewSpec) []any {
	kv := []any{"user", spec.User}
	if ra := spec.ResourceAttributes; ra != nil {
		return append(kv, "verb", ra.Verb, "namespace", ra.Namespace, "group", ra.Group,
			"resource", ra.Resource, "subresource", ra.Subresource, "name", ra.Name)
	}
	if nra := spec.NonResourceAttributes; nra != nil {
		return append(kv, "verb", nra.Verb, "path", nra.Path)
	}
	return kv
}

// ConditionsAwareAuthorize returns the Authorize decision as an unconditional decision.
func (a *SAR) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions is not supported: it returns DecisionDeny and
// authorizer.ErrorConditionEvaluationNotSupported.
func (*SAR) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

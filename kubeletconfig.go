package authfilter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/authfilter/authfilter/attributes"
	"github.com/authfilter/authfilter/authn"
	"github.com/authfilter/authfilter/authz"
	"github.com/authfilter/authfilter/internal/nilcheck"
)

// The KubeletConfiguration v1beta1 defaults that NewFromKubeletConfig applies to unset fields.
const (
	DefaultAnonymousEnabled       = false
	DefaultTokenWebhookEnabled    = true
	DefaultTokenWebhookCacheTTL   = 2 * time.Minute
	DefaultAuthorizationMode      = kubeletconfigv1beta1.KubeletAuthorizationModeWebhook
	DefaultAuthorizedCacheTTL     = 5 * time.Minute
	DefaultUnauthorizedCacheTTL   = 30 * time.Second
	defaultKubeletConfigKind      = "KubeletConfiguration"
	defaultKubeletConfigAPIVerson = "kubelet.config.k8s.io/v1beta1"
)

// NewFromKubeletConfig builds the filter a kubelet would build from cfg's authentication and
// authorization sections, for the node nodeName, reviewing tokens and access through client.
//
// Unset fields take the KubeletConfiguration v1beta1 defaults (see ApplyKubeletDefaults):
// anonymous off, token webhook on with a 2m cache, mode Webhook with 5m/30s caches. cfg itself
// is not modified. When x509.clientCAFile is set, the file is loaded now (an error if it is
// missing or invalid) and re-read until ctx is done, so a rotated bundle takes effect within
// seconds. Logs go to the logger in ctx (logr.FromContextOrDiscard).
//
// It returns an error for an unknown authorization mode, a negative TTL, an empty node name, a
// nil client when a webhook needs one, or a configuration that enables no authentication at all.
func NewFromKubeletConfig(ctx context.Context, cfg *kubeletconfigv1beta1.KubeletConfiguration, nodeName string, client kubernetes.Interface) (*Filter, error) {
	if cfg == nil {
		return nil, errors.New("authfilter: KubeletConfiguration is nil")
	}
	if nodeName == "" {
		return nil, errors.New("authfilter: node name is empty")
	}
	cfg = cfg.DeepCopy()
	ApplyKubeletDefaults(cfg)
	logger := logr.FromContextOrDiscard(ctx)

	authenticator, caFile, err := kubeletAuthenticator(cfg.Authentication, client, logger)
	if err != nil {
		return nil, err
	}
	authorizer, err := kubeletAuthorizer(cfg.Authorization, client, logger)
	if err != nil {
		return nil, err
	}
	attrs, err := attributes.NewKubelet(nodeName)
	if err != nil {
		return nil, fmt.Errorf("authfilter: %w", err)
	}
	f, err := New(authenticator, authorizer, attrs, Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	if caFile != nil { // started only once the whole chain is built: an error leaves nothing running
		go caFile.Run(ctx)
	}
	return f, nil
}

// ApplyKubeletDefaults sets the unset authentication and authorization fields of cfg to the
// KubeletConfiguration v1beta1 defaults, as the kubelet does when it loads a config file.
// These are the secure defaults, not the kubelet's legacy command-line flag defaults.
func ApplyKubeletDefaults(cfg *kubeletconfigv1beta1.KubeletConfiguration) {
	if cfg.Kind == "" {
		cfg.Kind = defaultKubeletConfigKind
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = defaultKubeletConfigAPIVerson
	}
	a := &cfg.Authentication
	if a.Anonymous.Enabled == nil {
		a.Anonymous.Enabled = ptr(DefaultAnonymousEnabled)
	}
	if a.Webhook.Enabled == nil {
		a.Webhook.Enabled = ptr(DefaultTokenWebhookEnabled)
	}
	if a.Webhook.CacheTTL.Duration == 0 {
		a.Webhook.CacheTTL.Duration = DefaultTokenWebhookCacheTTL
	}
	z := &cfg.Authorization
	if z.Mode == "" {
		z.Mode = DefaultAuthorizationMode
	}
	if z.Webhook.CacheAuthorizedTTL.Duration == 0 {
		z.Webhook.CacheAuthorizedTTL.Duration = DefaultAuthorizedCacheTTL
	}
	if z.Webhook.CacheUnauthorizedTTL.Duration == 0 {
		z.Webhook.CacheUnauthorizedTTL.Duration = DefaultUnauthorizedCacheTTL
	}
}

func ptr[T any](v T) *T { return &v }

// kubeletAuthenticator builds x509 → token (Authorization header, then websocket subprotocol) →
// anonymous from a defaulted config. It returns the client CA file, if any, without starting
// its watcher: the caller runs it once everything else is built.
func kubeletAuthenticator(c kubeletconfigv1beta1.KubeletAuthentication, client kubernetes.Interface, logger logr.Logger) (_ authenticator.Request, caFile *authn.ClientCAFile, _ error) {
	var credentialed []authenticator.Request
	if path := c.X509.ClientCAFile; path != "" {
		ca, err := authn.NewClientCAFile(path, authn.ClientCAFileOptions{Logger: logger.WithName("client-ca")})
		if err != nil {
			return nil, nil, fmt.Errorf("authfilter: x509.clientCAFile: %w", err)
		}
		x, err := authn.NewX509(ca, authn.X509Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("authfilter: x509: %w", err)
		}
		credentialed = append(credentialed, x)
		caFile = ca
	}
	if *c.Webhook.Enabled {
		if nilcheck.IsNil(client) {
			return nil, nil, errors.New("authfilter: authentication.webhook.enabled needs a Kubernetes client")
		}
		if c.Webhook.CacheTTL.Duration < 0 {
			return nil, nil, fmt.Errorf("authfilter: authentication.webhook.cacheTTL must not be negative, got %s", c.Webhook.CacheTTL.Duration)
		}
		t, err := authn.NewToken(client.AuthenticationV1().TokenReviews(), authn.TokenOptions{
			CacheTTL: c.Webhook.CacheTTL.Duration,
			Logger:   logger.WithName("token-review"),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("authfilter: token webhook: %w", err)
		}
		ws, err := authn.NewWebSocketToken(t)
		if err != nil {
			return nil, nil, fmt.Errorf("authfilter: token webhook: %w", err)
		}
		credentialed = append(credentialed, t, ws)
	}
	var chain []authenticator.Request
	if len(credentialed) > 0 {
		union, err := authn.NewUnion(credentialed...)
		if err != nil {
			return nil, nil, fmt.Errorf("authfilter: %w", err)
		}
		chain = append(chain, authn.WithAuthenticatedGroup(union))
	}
	if *c.Anonymous.Enabled {
		chain = append(chain, authn.NewAnonymous())
	}
	if len(chain) == 0 {
		return nil, nil, errors.New("authfilter: no authentication enabled (no x509.clientCAFile, webhook and anonymous off): every request would be refused")
	}
	u, err := authn.NewUnion(chain...)
	if err != nil {
		return nil, nil, fmt.Errorf("authfilter: %w", err)
	}
	return u, caFile, nil
}

// kubeletAuthorizer builds AlwaysAllow or the SubjectAccessReview webhook from a defaulted config.
func kubeletAuthorizer(c kubeletconfigv1beta1.KubeletAuthorization, client kubernetes.Interface, logger logr.Logger) (authorizer.Authorizer, error) {
	switch c.Mode {
	case kubeletconfigv1beta1.KubeletAuthorizationModeAlwaysAllow:
		return authz.NewAlwaysAllow(), nil
	case kubeletconfigv1beta1.KubeletAuthorizationModeWebhook:
		if nilcheck.IsNil(client) {
			return nil, errors.New("authfilter: authorization mode Webhook needs a Kubernetes client")
		}
		allowTTL, denyTTL := c.Webhook.CacheAuthorizedTTL.Duration, c.Webhook.CacheUnauthorizedTTL.Duration
		if allowTTL < 0 || denyTTL < 0 {
			return nil, fmt.Errorf("authfilter: authorization.webhook cache TTLs must not be negative, got %s and %s", allowTTL, denyTTL)
		}
		sar, err := authz.NewSAR(client.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{
			AllowCacheTTL: allowTTL,
			DenyCacheTTL:  denyTTL,
			Logger:        logger.WithName("subject-access-review"),
		})
		if err != nil {
			return nil, fmt.Errorf("authfilter: authorization webhook: %w", err)
		}
		return sar, nil
	default:
		return nil, fmt.Errorf("authfilter: authorization.mode %q is not supported (want AlwaysAllow or Webhook)", c.Mode)
	}
}

package bench

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/client-go/kubernetes"
)

// kubeletWebhookRetryBackoff is the value of k8s.io/apiserver/pkg/server/options
// DefaultAuthWebhookRetryBackoff(), which the kubelet passes to both delegating factories.
// Written out to keep that package's dependencies out of the benchmark binary.
func kubeletWebhookRetryBackoff() *wait.Backoff {
	return &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
}

// upstreamAuthenticator builds the kubelet's authenticator (cmd/kubelet/app/auth.go BuildAuthn):
// x509 against the client CA, then the TokenReview webhook behind its token cache, then
// anonymous when enabled.
func upstreamAuthenticator(s settings, client kubernetes.Interface) (authenticator.Request, error) {
	ca, err := dynamiccertificates.NewStaticCAContent("client-ca-bundle", s.caBundle)
	if err != nil {
		return nil, err
	}
	cfg := authenticatorfactory.DelegatingAuthenticatorConfig{
		Anonymous:                          &apiserver.AnonymousAuthConfig{Enabled: s.anonymous},
		CacheTTL:                           s.tokenTTL,
		ClientCertificateCAContentProvider: ca,
		TokenAccessReviewClient:            client.AuthenticationV1(),
		TokenAccessReviewTimeout:           10 * time.Second,
		WebhookRetryBackoff:                kubeletWebhookRetryBackoff(),
	}
	a, _, err := cfg.New()
	return a, err
}

// upstreamAuthorizer builds the kubelet's authorizer (BuildAuthz): AlwaysAllow, or the
// SubjectAccessReview webhook with its decision cache.
func upstreamAuthorizer(s settings, client kubernetes.Interface) (authorizer.Authorizer, error) {
	if s.alwaysAllow {
		return authorizerfactory.NewAlwaysAllowAuthorizer(), nil
	}
	return authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: client.AuthorizationV1(),
		AllowCacheTTL:             s.allowTTL,
		DenyCacheTTL:              s.denyTTL,
		WebhookRetryBackoff:       kubeletWebhookRetryBackoff(),
	}.New()
}

// kubeletFilter is the kubelet's auth filter (pkg/kubelet/server InstallAuthFilter) as a plain
// http.Handler: authenticate, map the request to attributes, allow when any attribute is
// allowed. Like the kubelet it does not copy the request; its klog lines are left out.
type kubeletFilter struct {
	authn    authenticator.Request
	authz    authorizer.Authorizer
	nodeName string
	next     http.Handler
}

func newUpstream(s settings, client kubernetes.Interface, next http.Handler) (*kubeletFilter, error) {
	authn, err := upstreamAuthenticator(s, client)
	if err != nil {
		return nil, fmt.Errorf("upstream authenticator: %w", err)
	}
	authz, err := upstreamAuthorizer(s, client)
	if err != nil {
		return nil, fmt.Errorf("upstream authorizer: %w", err)
	}
	return &kubeletFilter{authn: authn, authz: authz, nodeName: s.nodeName, next: next}, nil
}

func (f *kubeletFilter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, ok, err := f.authn.AuthenticateRequest(r)
	if err != nil || !ok {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	attrs := kubeletAttributes(f.nodeName, info.User, r)
	var subresources []string
	for _, a := range attrs {
		subresources = append(subresources, a.GetSubresource())
		decision, _, err := f.authz.Authorize(r.Context(), a)
		if err != nil {
			msg := fmt.Sprintf("Authorization error (user=%s, verb=%s, resource=%s, subresource=%s)",
				a.GetUser().GetName(), a.GetVerb(), a.GetResource(), a.GetSubresource())
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
		if decision == authorizer.DecisionAllow {
			f.next.ServeHTTP(w, r)
			return
		}
	}
	msg := fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=%s, subresource(s)=%v)",
		info.User.GetName(), attrs[0].GetVerb(), attrs[0].GetResource(), subresources)
	http.Error(w, msg, http.StatusForbidden)
}

// kubeletAttributes is the kubelet's nodeAuthorizerAttributesGetter with fine-grained
// authorization on: the verb from the method, subresources by path prefix, each becoming one
// AttributesRecord on the node.
func kubeletAttributes(nodeName string, u user.Info, r *http.Request) []authorizer.Attributes {
	verb := ""
	switch r.Method {
	case http.MethodPost:
		verb = "create"
	case http.MethodGet:
		verb = "get"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
	}
	p := r.URL.Path
	var subresources []string
	switch {
	case isSubpath(p, "/pods"), isSubpath(p, "/runningpods"):
		subresources = append(subresources, "pods")
	case isSubpath(p, "/healthz"):
		subresources = append(subresources, "healthz")
	case isSubpath(p, "/configz"):
		subresources = append(subresources, "configz")
	}
	switch {
	case isSubpath(p, "/stats"):
		subresources = append(subresources, "stats")
	case isSubpath(p, "/metrics"):
		subresources = append(subresources, "metrics")
	case isSubpath(p, "/logs"):
		subresources = append(subresources, "log")
	case isSubpath(p, "/checkpoint"):
		subresources = append(subresources, "checkpoint")
	default:
		subresources = append(subresources, "proxy")
	}
	attrs := make([]authorizer.Attributes, 0, len(subresources))
	for _, sub := range subresources {
		attrs = append(attrs, authorizer.AttributesRecord{
			User:            u,
			Verb:            verb,
			APIVersion:      "v1",
			Resource:        "nodes",
			Subresource:     sub,
			Name:            nodeName,
			ResourceRequest: true,
			Path:            p,
		})
	}
	return attrs
}

func isSubpath(subpath, path string) bool {
	path = strings.TrimSuffix(path, "/")
	return subpath == path || (strings.HasPrefix(subpath, path) && subpath[len(path)] == '/')
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes"

	"github.com/authfilter/authfilter"
	"github.com/authfilter/authfilter/attributes"
	"github.com/authfilter/authfilter/authn"
	"github.com/authfilter/authfilter/authz"
	"github.com/authfilter/authfilter/authz/node"
)

// secretsPattern is the one route served, in the API server's path layout.
const secretsPattern = "GET /api/v1/namespaces/{namespace}/secrets/{name}"

// newHandler returns the secrets mux wrapped by the Node,RBAC filter: client certificates
// (verified against ca) or TokenReview tokens; kube-apiserver's request attributes; the Node
// authorizer, then a SubjectAccessReview. The Node authorizer's informers run until ctx is done;
// newHandler returns once they have synced (or fails when ctx ends first).
func newHandler(ctx context.Context, client kubernetes.Interface, ca authn.ClientCA, logger logr.Logger) (http.Handler, error) {
	certs, err := authn.NewX509(ca, authn.X509Options{})
	if err != nil {
		return nil, err
	}
	tokens, err := authn.NewToken(client.AuthenticationV1().TokenReviews(), authn.TokenOptions{Logger: logger.WithName("token")})
	if err != nil {
		return nil, err
	}
	who, err := authn.NewUnion(certs, tokens)
	if err != nil {
		return nil, err
	}
	nodes, err := node.New(client, node.Options{Logger: logger.WithName("node")})
	if err != nil {
		return nil, err
	}
	rbac, err := authz.NewSAR(client.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{Logger: logger.WithName("sar")})
	if err != nil {
		return nil, err
	}
	may, err := authz.NewUnion(nodes, rbac) // --authorization-mode=Node,RBAC
	if err != nil {
		return nil, err
	}
	f, err := authfilter.New(who, may, attributes.NewAPIServer(), authfilter.Options{Logger: logger.WithName("filter")})
	if err != nil {
		return nil, err
	}
	nodes.Start(ctx)
	if !nodes.WaitForSync(ctx) {
		return nil, errors.New("the node authorizer's informers did not sync")
	}
	mux := http.NewServeMux()
	mux.Handle(secretsPattern, &secretsHandler{client: client, logger: logger})
	return f.Handler(mux), nil
}

// secretsHandler serves one secret, read from the API server, as JSON.
type secretsHandler struct {
	client kubernetes.Interface
	logger logr.Logger
}

func (h *secretsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	secret, err := h.client.CoreV1().Secrets(ns).Get(r.Context(), name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	case err != nil:
		h.logger.Error(err, "reading secret", "namespace", ns, "name", name)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	out := secret.DeepCopy()
	out.APIVersion, out.Kind = "v1", "Secret"
	out.ManagedFields = nil
	body, err := json.Marshal(out)
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "%s\n", body)
	u := userOf(r)
	h.logger.Info("secret served", "namespace", ns, "name", name, "user", u) // never the data
}

// userOf returns the name of the user the filter authenticated, or "".
func userOf(r *http.Request) string {
	if u, ok := request.UserFrom(r.Context()); ok {
		return u.GetName()
	}
	return ""
}

package authfilter_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/authfilter/authfilter"
	"github.com/authfilter/authfilter/attributes"
)

// A kubelet's configuration in, the kubelet's filter out. The fake clientset stands in for the
// API server: it knows one token and allows only nodes/stats.
func ExampleNewFromKubeletConfig() {
	client := fake.NewClientset()
	client.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		if tr.Spec.Token == "scraper-token" {
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "scraper"}}
		}
		return true, tr, nil
	})
	client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		sar.Status.Allowed = sar.Spec.ResourceAttributes.Subresource == "stats"
		return true, sar, nil
	})

	cfg := &kubeletconfigv1beta1.KubeletConfiguration{} // defaults: token webhook on, mode Webhook
	f, err := authfilter.NewFromKubeletConfig(context.Background(), cfg, "node-a", client)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u, _ := request.UserFrom(r.Context())
		fmt.Fprintf(w, "hello %s", u.GetName())
	})
	handler := f.Handler(mux)

	for _, c := range []struct{ path, token string }{
		{"/stats/summary", "scraper-token"},
		{"/logs/", "scraper-token"},
		{"/stats/summary", "forged"},
		{"/stats/summary", ""},
	} {
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(c.path, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// /stats/summary 200 hello scraper
	// /logs/ 403 Forbidden (user=scraper, verb=get, resource=nodes, subresource(s)=[log])
	// /stats/summary 401 Unauthorized
	// /stats/summary 401 Unauthorized
}

// Any authenticator, authorizer and attribute mapping that speak the k8s.io/apiserver
// interfaces can be assembled into a filter.
func ExampleNew() {
	authn := authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		if r.Header.Get("X-Test-User") == "" {
			return nil, false, nil
		}
		return &authenticator.Response{User: &user.DefaultInfo{Name: r.Header.Get("X-Test-User")}}, true, nil
	})
	authz := authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		if a.GetUser().GetName() == "admin" {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionNoOpinion, "", nil
	})
	f, err := authfilter.New(authn, authz, attributes.NewNonResource(), authfilter.Options{})
	if err != nil {
		panic(err)
	}
	handler := f.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	for _, name := range []string{"admin", "guest", ""} {
		r := httptest.NewRequest(http.MethodGet, "/debug/vars", nil)
		if name != "" {
			r.Header.Set("X-Test-User", name)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 ok
	// 403 Forbidden (user=guest, verb=get, path=/debug/vars)
	// 401 Unauthorized
}

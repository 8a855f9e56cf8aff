package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	// Namespace is the namespace of the service accounts the Backend authenticates.
	Namespace = "monitoring"
	// DeniedAccount is the service account name whose SubjectAccessReviews are denied; every
	// other user is allowed.
	DeniedAccount = "denied"

	tokenPrefix     = "bench."
	tokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews"
	sarPath         = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
)

// Token returns a bearer token that the Backend authenticates as the service account
// system:serviceaccount:monitoring:<account>. It is about 50 bytes long, like an opaque token;
// pad adds that many bytes, e.g. ~900 to match the size of a bound service-account JWT.
func Token(account string, pad int) string {
	sum := sha256.Sum256([]byte(account))
	return tokenPrefix + account + "." + hex.EncodeToString(sum[:16]) + strings.Repeat("x", pad)
}

// PlainPrefix starts the account names whose users have no extra (see UserFor).
const PlainPrefix = "plain-"

// OwnNamespacePrefix starts the account names whose service account is in a namespace of its
// own, named after the account (see UserFor); it may be followed by PlainPrefix.
const OwnNamespacePrefix = "own-"

// UserFor returns the user the Backend answers for a token made by Token(account, ...): the
// shape of a real bound service-account token's TokenReview status, system:authenticated
// included, as kube-apiserver returns it, with the four extra values of a pod-bound token. An
// account named PlainPrefix+"..." gets no extra, like a legacy secret-based token. The service
// accounts are in Namespace, except those named OwnNamespacePrefix+"...", each in a namespace of
// its own (so no two of them have the same groups).
func UserFor(account string) authenticationv1.UserInfo {
	sum := sha256.Sum256([]byte("uid/" + account))
	uid := hex.EncodeToString(sum[:16])
	ns := Namespace
	rest, own := strings.CutPrefix(account, OwnNamespacePrefix)
	if own {
		ns = account
	}
	u := authenticationv1.UserInfo{
		Username: "system:serviceaccount:" + ns + ":" + account,
		UID:      uid[:8] + "-" + uid[8:12] + "-" + uid[12:16] + "-" + uid[16:20] + "-" + uid[20:32],
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	if strings.HasPrefix(rest, PlainPrefix) {
		return u
	}
	u.Extra = map[string]authenticationv1.ExtraValue{
		"authentication.kubernetes.io/credential-id": {"JTI=" + uid[:16]},
		"authentication.kubernetes.io/node-name":     {"node-1"},
		"authentication.kubernetes.io/pod-name":      {account + "-0"},
		"authentication.kubernetes.io/pod-uid":       {uid[16:32]},
	}
	return u
}

// Backend is an in-process Kubernetes API server: an http.RoundTripper that answers
// authentication.k8s.io/v1 TokenReview and authorization.k8s.io/v1 SubjectAccessReview POSTs
// directly, without a network, and counts them. Build a real *kubernetes.Clientset on it with
// [Backend.Clientset]. The zero value answers at once; it is safe for concurrent use.
//
// TokenReviews authenticate tokens made by [Token] as [UserFor] their account and reject
// everything else. SubjectAccessReviews are allowed, except for the account [DeniedAccount].
type Backend struct {
	delay        atomic.Int64 // nanoseconds
	tokenReviews atomic.Int64
	sars         atomic.Int64
}

// SetDelay makes every review take d before it is answered (or the request's context ends).
func (b *Backend) SetDelay(d time.Duration) { b.delay.Store(int64(d)) }

// Counts returns how many TokenReviews and SubjectAccessReviews were answered so far.
func (b *Backend) Counts() (tokenReviews, sars int64) {
	return b.tokenReviews.Load(), b.sars.Load()
}

// Clientset returns a real clientset whose every request is answered by b. Client-side rate
// limiting is off (QPS -1) and the wire format is JSON.
func (b *Backend) Clientset() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(&rest.Config{
		Host:          "https://kube-apiserver.bench.invalid",
		Transport:     b,
		QPS:           -1,
		ContentConfig: rest.ContentConfig{ContentType: "application/json"},
	})
}

// RoundTrip answers one API request.
func (b *Backend) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if req.Method != http.MethodPost {
		return respond(req, http.StatusMethodNotAllowed, nil), nil
	}
	if d := time.Duration(b.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var out any
	switch req.URL.Path {
	case tokenReviewPath:
		b.tokenReviews.Add(1)
		var tr authenticationv1.TokenReview
		if err := json.Unmarshal(body, &tr); err != nil {
			return respond(req, http.StatusBadRequest, nil), nil
		}
		tr.TypeMeta = metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenReview"}
		tr.Status = reviewToken(tr.Spec.Token)
		out = &tr
	case sarPath:
		b.sars.Add(1)
		var sar authorizationv1.SubjectAccessReview
		if err := json.Unmarshal(body, &sar); err != nil {
			return respond(req, http.StatusBadRequest, nil), nil
		}
		sar.TypeMeta = metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SubjectAccessReview"}
		sar.Status = reviewAccess(&sar.Spec)
		out = &sar
	default:
		return respond(req, http.StatusNotFound, nil), nil
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return respond(req, http.StatusCreated, data), nil
}

func reviewToken(token string) authenticationv1.TokenReviewStatus {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	account, _, found := strings.Cut(rest, ".")
	base := Token(account, 0)
	if !ok || !found || account == "" || !strings.HasPrefix(token, base) || strings.Trim(token[len(base):], "x") != "" {
		return authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
	}
	return authenticationv1.TokenReviewStatus{Authenticated: true, User: UserFor(account)}
}

func reviewAccess(spec *authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
	if spec.User == "system:serviceaccount:"+Namespace+":"+DeniedAccount {
		return authorizationv1.SubjectAccessReviewStatus{Reason: "no RBAC policy matched"}
	}
	return authorizationv1.SubjectAccessReviewStatus{
		Allowed: true,
		Reason:  fmt.Sprintf("RBAC: allowed by ClusterRoleBinding %q of ClusterRole %q to User %q", "bench", "system:kubelet-api-admin", spec.User),
	}
}

func respond(req *http.Request, code int, body []byte) *http.Response {
	return &http.Response{
		StatusCode:    code,
		Status:        fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

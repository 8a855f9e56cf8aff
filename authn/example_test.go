package authn_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/authfilter/authfilter/authn"
)

// exampleCA makes a CA and a client certificate for it, returning the CA as PEM.
func exampleCA(cn string, orgs ...string) (caPEM []byte, client *x509.Certificate) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	client, _ = x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), client
}

// exampleReviews returns a fake TokenReview client that accepts the token "good-token".
func exampleReviews() *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		tr := action.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		if tr.Spec.Token == "good-token" {
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
				Username: "system:serviceaccount:monitoring:prometheus",
				Groups:   []string{"system:serviceaccounts"},
			}}
		} else {
			tr.Status = authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
		}
		return true, tr, nil
	})
	return cs
}

func show(resp *authenticator.Response, ok bool, err error) {
	switch {
	case err != nil:
		fmt.Println("refused:", err)
	case !ok:
		fmt.Println("no credential")
	default:
		fmt.Println(resp.User.GetName(), resp.User.GetGroups())
	}
}

func ExampleNewX509() {
	caPEM, client := exampleCA("alice", "dev")
	ca, err := authn.NewStaticClientCA(caPEM)
	if err != nil {
		panic(err)
	}
	x, err := authn.NewX509(ca, authn.X509Options{})
	if err != nil {
		panic(err)
	}

	r := httptest.NewRequest(http.MethodGet, "https://node:10250/pods", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{client}}
	show(x.AuthenticateRequest(r))

	_, stranger := exampleCA("mallory")
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{stranger}}
	_, _, err = x.AuthenticateRequest(r)
	fmt.Println(err != nil)
	// Output:
	// alice [dev]
	// true
}

func ExampleNewClientCAFile() {
	dir, err := os.MkdirTemp("", "authn-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	caPEM, _ := exampleCA("alice")
	path := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(path, caPEM, 0o600); err != nil {
		panic(err)
	}

	ca, err := authn.NewClientCAFile(path, authn.ClientCAFileOptions{})
	if err != nil {
		panic(err)
	}
	// In a server: go ca.Run(ctx), then authn.NewX509(ca, ...).
	pool, generation := ca.CurrentCA()
	fmt.Println(pool != nil, generation)
	// Output: true 1
}

func ExampleNewToken() {
	cs := exampleReviews()
	tok, err := authn.NewToken(cs.AuthenticationV1().TokenReviews(), authn.TokenOptions{CacheTTL: time.Minute})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://node:10250/metrics", nil)
	r.Header.Set("Authorization", "Bearer good-token")
	show(tok.AuthenticateRequest(r))
	show(tok.AuthenticateRequest(r)) // answered from the cache

	r.Header.Set("Authorization", "Bearer bad-token")
	show(tok.AuthenticateRequest(r))

	fmt.Println("TokenReviews sent:", len(cs.Actions()))
	// Output:
	// system:serviceaccount:monitoring:prometheus [system:serviceaccounts]
	// system:serviceaccount:monitoring:prometheus [system:serviceaccounts]
	// refused: token rejected by the API server: invalid bearer token
	// TokenReviews sent: 2
}

func ExampleNewAnonymous() {
	anon := authn.NewAnonymous()
	r := httptest.NewRequest(http.MethodGet, "https://node:10250/healthz", nil)
	show(anon.AuthenticateRequest(r))

	r.Header.Set("Authorization", "Bearer something")
	show(anon.AuthenticateRequest(r))
	// Output:
	// system:anonymous [system:unauthenticated]
	// no credential
}

// ExampleNewUnion builds the kubelet's chain: a client certificate or a bearer token, with
// system:authenticated added, else anonymous for requests without any credential.
func ExampleNewUnion() {
	caPEM, _ := exampleCA("unused")
	ca, _ := authn.NewStaticClientCA(caPEM)
	x, _ := authn.NewX509(ca, authn.X509Options{})
	tok, _ := authn.NewToken(exampleReviews().AuthenticationV1().TokenReviews(), authn.TokenOptions{})
	credentialed, err := authn.NewUnion(x, tok)
	if err != nil {
		panic(err)
	}
	chain, err := authn.NewUnion(authn.WithAuthenticatedGroup(credentialed), authn.NewAnonymous())
	if err != nil {
		panic(err)
	}

	for _, header := range []string{"", "Bearer good-token", "Basic YWxpY2U6cHc="} {
		r := httptest.NewRequest(http.MethodGet, "https://node:10250/pods", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		show(chain.AuthenticateRequest(r))
	}
	// Output:
	// system:anonymous [system:unauthenticated]
	// system:serviceaccount:monitoring:prometheus [system:serviceaccounts system:authenticated]
	// refused: token: Authorization header is not of the Bearer scheme
}

func ExampleWithAuthenticatedGroup() {
	inner := authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
		return &authenticator.Response{User: &user.DefaultInfo{Name: "alice", Groups: []string{"dev"}}}, true, nil
	})
	a := authn.WithAuthenticatedGroup(inner)
	show(a.AuthenticateRequest(httptest.NewRequest(http.MethodGet, "/", nil)))
	// Output: alice [dev system:authenticated]
}

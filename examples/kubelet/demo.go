package main

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/authfilter/authfilter/examples/internal/serve"
)

// The demo's identities and groups.
const (
	demoAdmin     = "demo-admin"
	demoViewer    = "demo-viewer"
	demoTokenUser = "demo-token-user"
	groupAdmins   = "demo:admins"
	groupViewers  = "demo:viewers"
)

// keyPair names a certificate file and its key file.
type keyPair struct{ certFile, keyFile string }

// demo is the embedded default: generated credentials in a temporary directory and a fake
// API server that answers reviews in process. Close deletes the directory.
type demo struct {
	dir       string
	caFile    string
	admin     keyPair
	viewer    keyPair
	tokenFile string // "Authorization: Bearer <token>", for curl -H @file
	token     string
	serving   tls.Certificate
	client    *fake.Clientset
	reviews   *reviewCounter
	logger    logr.Logger
}

// newDemo generates the CA, the serving certificate for nodeName and address, the two client
// certificates and the token, and the fake API server whose reviews reviews counts.
func newDemo(nodeName, address string, reviews *reviewCounter, logger logr.Logger) (*demo, error) {
	dir, err := os.MkdirTemp("", "authfilter-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &demo{dir: dir, reviews: reviews, logger: logger}
	if err := d.generate(nodeName, address); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: %w", err)
	}
	// The fake keeps every review it answers (the tests read them back); the filter caches
	// review results, so this grows slowly, which a demo can afford.
	d.client = fake.NewClientset()
	d.client.PrependReactor("create", "tokenreviews", d.tokenReview)
	d.client.PrependReactor("create", "subjectaccessreviews", d.subjectAccessReview)
	return d, nil
}

// Close deletes the demo's directory.
func (d *demo) Close() error { return os.RemoveAll(d.dir) }

// generate writes the demo's files, readable by the owner only.
func (d *demo) generate(nodeName, address string) error {
	var errs []error
	write := func(name string, data []byte) string {
		path := filepath.Join(d.dir, name)
		errs = append(errs, os.WriteFile(path, data, 0o600))
		return path
	}
	ca, err := serve.NewCA("authfilter-demo-ca")
	if err != nil {
		return err
	}
	d.caFile = write("ca.crt", ca.CertPEM())

	certPEM, keyPEM, err := ca.Issue("authfilter-demo-kubelet", nil, servingHosts(nodeName, address), x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
	}
	if d.serving, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return err
	}
	for _, c := range []struct {
		user, group string
		pair        *keyPair
	}{{demoAdmin, groupAdmins, &d.admin}, {demoViewer, groupViewers, &d.viewer}} {
		certPEM, keyPEM, err := ca.Issue(c.user, []string{c.group}, nil, x509.ExtKeyUsageClientAuth)
		if err != nil {
			return err
		}
		c.pair.certFile = write(c.user+".crt", certPEM)
		c.pair.keyFile = write(c.user+".key", keyPEM)
	}

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	d.token = base64.RawURLEncoding.EncodeToString(secret)
	d.tokenFile = write("token-header", []byte("Authorization: Bearer "+d.token+"\n"))
	return errors.Join(errs...)
}

// tokenReview is the fake API server's TokenReview: the demo token is demo-token-user in
// demo:viewers; any other token is not authenticated.
func (d *demo) tokenReview(action clienttesting.Action) (bool, runtime.Object, error) {
	d.reviews.record(kindTokenReview)
	in, ok := action.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
	if !ok {
		return true, nil, fmt.Errorf("demo API server: want a TokenReview, got %T", action.(clienttesting.CreateAction).GetObject())
	}
	out := in.DeepCopy()
	out.Spec.Token = ""
	if subtle.ConstantTimeCompare([]byte(in.Spec.Token), []byte(d.token)) == 1 {
		out.Status = authenticationv1.TokenReviewStatus{
			Authenticated: true,
			User:          authenticationv1.UserInfo{Username: demoTokenUser, UID: demoTokenUser, Groups: []string{groupViewers}},
			Audiences:     in.Spec.Audiences,
		}
	} else {
		out.Status = authenticationv1.TokenReviewStatus{Error: "demo API server: unknown token"}
	}
	d.logger.V(1).Info("demo API server answered", "kind", kindTokenReview, "authenticated", out.Status.Authenticated, "user", out.Status.User.Username)
	return true, out, nil
}

// subjectAccessReview is the fake API server's SubjectAccessReview, deciding with demoPolicy.
func (d *demo) subjectAccessReview(action clienttesting.Action) (bool, runtime.Object, error) {
	d.reviews.record(kindSubjectAccessReview)
	in, ok := action.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
	if !ok {
		return true, nil, fmt.Errorf("demo API server: want a SubjectAccessReview, got %T", action.(clienttesting.CreateAction).GetObject())
	}
	out := in.DeepCopy()
	out.Status.Allowed, out.Status.Reason = demoPolicy(in.Spec)
	kv := []any{"kind", kindSubjectAccessReview, "user", in.Spec.User, "allowed", out.Status.Allowed, "reason", out.Status.Reason}
	if ra := in.Spec.ResourceAttributes; ra != nil {
		kv = append(kv, "verb", ra.Verb, "resource", ra.Resource, "subresource", ra.Subresource, "name", ra.Name)
	}
	if nra := in.Spec.NonResourceAttributes; nra != nil {
		kv = append(kv, "verb", nra.Verb, "path", nra.Path)
	}
	d.logger.V(1).Info("demo API server answered", kv...)
	return true, out, nil
}

// demoPolicy allows group demo:admins anything on nodes/*, and group demo:viewers get on
// nodes/stats, nodes/metrics and nodes/healthz. Everything else is denied.
func demoPolicy(spec authorizationv1.SubjectAccessReviewSpec) (allowed bool, reason string) {
	ra := spec.ResourceAttributes
	if ra == nil || ra.Group != "" || ra.Resource != "nodes" {
		return false, "demo policy: only nodes/* is ever allowed"
	}
	if slices.Contains(spec.Groups, groupAdmins) {
		return true, "demo policy: group " + groupAdmins + " may do anything on nodes/*"
	}
	if slices.Contains(spec.Groups, groupViewers) && ra.Verb == "get" &&
		slices.Contains([]string{"stats", "metrics", "healthz"}, ra.Subresource) {
		return true, "demo policy: group " + groupViewers + " may get nodes/" + ra.Subresource
	}
	return false, "demo policy: no rule allows this"
}

// demoCommand is one curl command the demo prints, with the status it should get.
type demoCommand struct {
	status  int
	comment string
	args    []string
	path    string
}

// commands returns the curl commands to print, in order.
func (d *demo) commands() []demoCommand {
	ca := []string{"--cacert", d.caFile}
	with := func(extra ...string) []string { return append(slices.Clone(ca), extra...) }
	return []demoCommand{
		{http.StatusOK, "demo-admin (client certificate, group " + groupAdmins + ") may do anything on nodes/*",
			with("--cert", d.admin.certFile, "--key", d.admin.keyFile), "/stats/summary"},
		{http.StatusOK, "the demo token (" + demoTokenUser + ", group " + groupViewers + ") may get nodes/metrics",
			with("-H", "@"+d.tokenFile), "/metrics"},
		{http.StatusUnauthorized, "no credentials, and anonymous access is off", with(), "/stats/summary"},
		{http.StatusUnauthorized, "a bearer token the API server does not know",
			with("-H", "Authorization: Bearer not-the-demo-token"), "/stats/summary"},
		{http.StatusForbidden, "demo-viewer (client certificate, group " + groupViewers + ") may not get nodes/log",
			with("--cert", d.viewer.certFile, "--key", d.viewer.keyFile), "/logs/"},
	}
}

// printCommands writes the demo's introduction and ready-to-paste curl commands for baseURL.
// The token itself is never printed: curl reads it from a file with -H @file.
func (d *demo) printCommands(w io.Writer, baseURL, nodeName string, authFlags []string) {
	fmt.Fprintf(w, "authfilter demo: node %q serving its kubelet-like API on %s\n", nodeName, baseURL)
	fmt.Fprintf(w, "An in-process fake API server answers TokenReviews and SubjectAccessReviews with this policy:\n")
	fmt.Fprintf(w, "  group %s may do anything on nodes/*; group %s may get nodes/stats, nodes/metrics\n", groupAdmins, groupViewers)
	fmt.Fprintf(w, "  and nodes/healthz; nothing else is allowed.\n")
	fmt.Fprintf(w, "Certificates and the token are in %s (deleted on exit).\n\n", d.dir)
	fmt.Fprintf(w, "Try these (each comment gives the expected status):\n\n")
	for _, c := range d.commands() {
		fmt.Fprintf(w, "# %d %s: %s\n", c.status, http.StatusText(c.status), c.comment)
		words := append([]string{"curl", "-sS", "-i"}, c.args...)
		words = append(words, baseURL+c.path)
		for i, s := range words {
			words[i] = serve.ShellQuote(s)
		}
		fmt.Fprintf(w, "%s\n\n", strings.Join(words, " "))
	}
	if len(authFlags) > 0 {
		fmt.Fprintf(w, "Note: the expected statuses assume the default settings; you changed %s.\n", strings.Join(authFlags, ", "))
	}
	fmt.Fprintf(w, "Logs go to stderr (-v=2 also logs why a request was refused). Stop with Ctrl-C.\n")
}

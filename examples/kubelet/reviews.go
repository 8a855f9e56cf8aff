package main

import (
	"fmt"
	"io"
	"net/http"
	"path"
	"sync/atomic"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	kindTokenReview         = "TokenReview"
	kindSubjectAccessReview = "SubjectAccessReview"
)

// reviewCounter counts the TokenReviews and SubjectAccessReviews sent to the API server and
// logs each one (kind and running total, never the body). Safe for concurrent use.
type reviewCounter struct {
	logger        logr.Logger
	tokenReviews  atomic.Int64
	accessReviews atomic.Int64
}

// record counts one review of the given kind.
func (c *reviewCounter) record(kind string) {
	var n int64
	switch kind {
	case kindTokenReview:
		n = c.tokenReviews.Add(1)
	case kindSubjectAccessReview:
		n = c.accessReviews.Add(1)
	default:
		return
	}
	c.logger.Info("review sent", "kind", kind, "total", n)
}

// writeMetrics writes the counts in the Prometheus text format.
func (c *reviewCounter) writeMetrics(w io.Writer) {
	fmt.Fprint(w, "# HELP authfilter_example_reviews_total Reviews sent to the API server, by kind.\n")
	fmt.Fprint(w, "# TYPE authfilter_example_reviews_total counter\n")
	fmt.Fprintf(w, "authfilter_example_reviews_total{kind=%q} %d\n", kindSubjectAccessReview, c.accessReviews.Load())
	fmt.Fprintf(w, "authfilter_example_reviews_total{kind=%q} %d\n", kindTokenReview, c.tokenReviews.Load())
}

// wrap is a rest.Config transport wrapper: the returned RoundTripper counts review requests
// and passes every request to rt unchanged.
func (c *reviewCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return &countingTransport{next: rt, counter: c}
}

// countingTransport counts the POSTs that create TokenReviews and SubjectAccessReviews. It
// never reads the request body.
type countingTransport struct {
	next    http.RoundTripper
	counter *reviewCounter
}

// RoundTrip counts req when it creates a review, then sends it.
func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		switch path.Base(req.URL.Path) {
		case "tokenreviews":
			t.counter.record(kindTokenReview)
		case "subjectaccessreviews":
			t.counter.record(kindSubjectAccessReview)
		}
	}
	return t.next.RoundTrip(req)
}

// WrappedRoundTripper returns the wrapped transport, for client-go's transport introspection.
func (t *countingTransport) WrappedRoundTripper() http.RoundTripper { return t.next }

// newClient builds a clientset from a kubeconfig, counting the reviews it sends.
func newClient(kubeconfig string, reviews *reviewCounter) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	cfg.UserAgent = "authfilter-example-kubelet"
	cfg.QPS, cfg.Burst = 100, 200 // every uncached request costs a review
	cfg.Wrap(reviews.wrap)
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	return client, nil
}

// Package retry retries a review sent to the API server when it failed transiently, the way
// k8s.io/apiserver's webhooks do, so that a blip of the API server does not refuse requests
// that a second try would decide. It is safe for concurrent use.
package retry

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/util/webhook"
)

// Default returns the kubelet's webhook retry backoff: up to 5 tries, 500ms apart at first,
// growing 1.5x each time with 20% jitter (about 4s of waiting in all).
func Default() wait.Backoff {
	return wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
}

// Backoff validates b (nil means Default) and returns the backoff to use. A Steps of 1 means a
// single try.
func Backoff(b *wait.Backoff) (wait.Backoff, error) {
	if b == nil {
		return Default(), nil
	}
	if b.Steps < 1 || b.Duration < 0 || b.Factor < 0 || b.Jitter < 0 {
		return wait.Backoff{}, fmt.Errorf("retry backoff needs Steps >= 1 and no negative Duration, Factor or Jitter, got %+v", *b)
	}
	return *b, nil
}

// Do calls call until it succeeds, fails with an error that is not transient, b's steps are
// used up, or ctx ends. Transient errors are those k8s.io/apiserver retries: connection resets,
// lost HTTP/2 connections, 500, 504 and 429 responses, and responses asking for a retry
// (Retry-After). It returns call's last error, or ctx's when ctx ended before any call failed.
func Do(ctx context.Context, b wait.Backoff, call func(context.Context) error) error {
	return webhook.WithExponentialBackoff(ctx, b, func() error { return call(ctx) }, transient)
}

// transient is webhook.DefaultShouldRetry, which is false for a nil error, without its
// allocations for a nil error (it classifies even a success).
func transient(err error) bool { return err != nil && webhook.DefaultShouldRetry(err) }

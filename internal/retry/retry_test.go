package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
)

func TestDo(t *testing.T) {
	fast := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}
	internal := apierrors.NewInternalError(errors.New("etcd leader changed"))
	tooMany := apierrors.NewTooManyRequests("slow down", 0)
	forbidden := apierrors.NewForbidden(schemaGR(), "x", errors.New("no"))
	tests := []struct {
		name      string
		results   []error // what each call returns; past the end, nil
		wantCalls int
		wantErr   error
	}{
		{"success at once", nil, 1, nil},
		{"internal error then success", []error{internal}, 2, nil},
		{"429 twice then success", []error{tooMany, tooMany}, 3, nil},
		{"transient every time: steps used up", []error{internal, internal, internal, internal}, 3, internal},
		{"not transient: no retry", []error{forbidden}, 1, forbidden},
		{"plain error: no retry", []error{errors.New("connection refused")}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := Do(t.Context(), fast, func(context.Context) error {
				calls++
				if calls <= len(tt.results) {
					return tt.results[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && len(tt.results) > 0 && tt.wantCalls == 1 && err == nil:
				t.Error("a failing call returned no error")
			case tt.wantErr == nil && tt.wantCalls > len(tt.results) && err != nil:
				t.Errorf("err = %v, want success", err)
			}
		})
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := Do(ctx, wait.Backoff{Duration: time.Hour, Factor: 1, Steps: 5}, func(context.Context) error {
		calls++
		cancel()
		return apierrors.NewInternalError(errors.New("down"))
	})
	if err == nil || calls != 1 {
		t.Fatalf("Do = %v after %d calls, want an error after 1", err, calls)
	}
}

func TestBackoff(t *testing.T) {
	if b, err := Backoff(nil); err != nil || b != Default() {
		t.Errorf("Backoff(nil) = %+v, %v; want Default()", b, err)
	}
	if b, err := Backoff(&wait.Backoff{Steps: 1}); err != nil || b.Steps != 1 {
		t.Errorf("Backoff(Steps 1) = %+v, %v", b, err)
	}
	for _, bad := range []wait.Backoff{{Steps: 0}, {Steps: 2, Duration: -1}, {Steps: 2, Jitter: -1}} {
		if _, err := Backoff(&bad); err == nil {
			t.Errorf("Backoff(%+v) accepted", bad)
		}
	}
}

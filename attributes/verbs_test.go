package attributes

import (
	"errors"
	"strings"
	"testing"
)

func TestResourceVerb(t *testing.T) {
	tests := []struct {
		method string
		want   string
	}{
		{"GET", "get"},
		{"HEAD", "get"},
		{"POST", "create"},
		{"PUT", "update"},
		{"PATCH", "patch"},
		{"DELETE", "delete"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			got, err := ResourceVerb(tt.method)
			if err != nil || got != tt.want {
				t.Fatalf("ResourceVerb(%q) = %q, %v; want %q, nil", tt.method, got, err, tt.want)
			}
		})
	}
}

func TestNonResourceVerb(t *testing.T) {
	tests := []struct {
		method string
		want   string
	}{
		{"GET", "get"},
		{"HEAD", "head"},
		{"POST", "post"},
		{"PUT", "put"},
		{"PATCH", "patch"},
		{"DELETE", "delete"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			got, err := NonResourceVerb(tt.method)
			if err != nil || got != tt.want {
				t.Fatalf("NonResourceVerb(%q) = %q, %v; want %q, nil", tt.method, got, err, tt.want)
			}
		})
	}
}

func TestVerbRefusedMethods(t *testing.T) {
	funcs := []struct {
		name string
		verb func(string) (string, error)
	}{
		{"ResourceVerb", ResourceVerb},
		{"NonResourceVerb", NonResourceVerb},
	}
	methods := append([]string{"gEt", "LIST", "WATCH", "GET ", strings.Repeat("X", 1000)}, refusedMethods...)
	for _, f := range funcs {
		for _, method := range methods {
			t.Run(f.name+"/"+truncate(method), func(t *testing.T) {
				got, err := f.verb(method)
				if !errors.Is(err, ErrMethodNotAllowed) {
					t.Fatalf("%s(%q) error = %v; want ErrMethodNotAllowed", f.name, method, err)
				}
				if got != "" {
					t.Errorf("%s(%q) verb = %q; want empty", f.name, method, got)
				}
				if len(err.Error()) > 2*maxQuoted {
					t.Errorf("error message is %d bytes long; want the method truncated", len(err.Error()))
				}
			})
		}
	}
}

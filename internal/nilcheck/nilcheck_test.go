package nilcheck

import (
	"io"
	"net/http"
	"testing"
)

func TestIsNil(t *testing.T) {
	var nilPtr *http.Request
	var nilReader io.Reader
	var nilFunc http.HandlerFunc
	var nilMap map[string]int
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{"untyped nil", nil, true},
		{"nil interface", nilReader, true},
		{"typed nil pointer", nilPtr, true},
		{"nil func", nilFunc, true},
		{"nil map", nilMap, true},
		{"pointer", &http.Request{}, false},
		{"func", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), false},
		{"struct value", http.Request{}, false},
		{"zero int", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsNil(tt.v); got != tt.want {
				t.Errorf("IsNil(%T) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

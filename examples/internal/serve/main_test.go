package serve

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		want    int
		wantOut string
	}{
		{"success", nil, 0, ""},
		{"help", flag.ErrHelp, 0, ""},
		{"wrapped help", fmt.Errorf("parsing: %w", flag.ErrHelp), 0, ""},
		{"failure", errors.New("address in use"), 1, "error: address in use\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if got := exitCode(tt.err, &out); got != tt.want || out.String() != tt.wantOut {
				t.Errorf("exitCode(%v) = %d, printed %q; want %d, %q", tt.err, got, out.String(), tt.want, tt.wantOut)
			}
		})
	}
}

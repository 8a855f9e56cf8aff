package serve

import "testing"

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/tmp/authfilter-demo-1/ca.crt", "/tmp/authfilter-demo-1/ca.crt"},
		{"@/tmp/x/token-header", "@/tmp/x/token-header"},
		{"https://127.0.0.1:10250/logs/", "https://127.0.0.1:10250/logs/"},
		{"Authorization: Bearer x", "'Authorization: Bearer x'"},
		{"/tmp/my dir/it's", `'/tmp/my dir/it'\''s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"", "''"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ShellQuote(tt.in); got != tt.want {
				t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

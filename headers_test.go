package authfilter

import (
	"encoding/base64"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/authfilter/authfilter/authn"
)

func TestPassedHeader(t *testing.T) {
	wsToken := authn.WebSocketBearerProtocolPrefix + base64.RawURLEncoding.EncodeToString([]byte("secret-token"))
	tests := []struct {
		name     string
		in       http.Header
		want     http.Header
		wantSame bool // the caller's map itself is passed on
	}{
		{
			name:     "nothing to strip",
			in:       http.Header{"Accept": {"text/plain"}, "User-Agent": {"Prometheus/3.5.0"}},
			want:     http.Header{"Accept": {"text/plain"}, "User-Agent": {"Prometheus/3.5.0"}},
			wantSame: true,
		},
		{
			name:     "no headers",
			in:       http.Header{},
			want:     http.Header{},
			wantSame: true,
		},
		{
			name: "bearer token",
			in:   http.Header{"Authorization": {"Bearer secret-token"}, "Accept": {"text/plain"}},
			want: http.Header{"Accept": {"text/plain"}},
		},
		{
			name: "only the bearer token",
			in:   http.Header{"Authorization": {"Bearer secret-token"}},
			want: http.Header{},
		},
		{
			name: "bearer token and identity claims, some keys not canonical",
			in: http.Header{
				"Authorization": {"Bearer secret-token"}, "Impersonate-User": {"system:admin"},
				"impersonate-group": {"system:masters"}, "X-Remote-User": {"system:admin"},
				"X-REMOTE-EXTRA-SCOPES": {"all"}, "X-Forwarded-For": {"192.0.2.1"},
			},
			want: http.Header{"X-Forwarded-For": {"192.0.2.1"}},
		},
		{
			name: "identity claims without a token",
			in:   http.Header{"Impersonate-User": {"system:admin"}, "Accept": {"text/plain"}},
			want: http.Header{"Accept": {"text/plain"}},
		},
		{
			name: "authorization key set without canonicalisation",
			in:   http.Header{"authorization": {"Bearer secret-token"}, "Accept": {"text/plain"}},
			want: http.Header{"Accept": {"text/plain"}},
		},
		{
			name: "websocket token among other subprotocols",
			in:   http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io, " + wsToken}, "Upgrade": {"websocket"}},
			want: http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io"}, "Upgrade": {"websocket"}},
		},
		{
			name: "websocket token alone",
			in:   http.Header{"Sec-Websocket-Protocol": {wsToken}},
			want: http.Header{},
		},
		{
			name: "websocket token and a bearer token",
			in:   http.Header{"Authorization": {"Bearer secret-token"}, "Sec-Websocket-Protocol": {wsToken + ", v5.channel.k8s.io"}},
			want: http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io"}},
		},
		{
			name:     "websocket subprotocols without a token",
			in:       http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io"}},
			want:     http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io"}},
			wantSame: true,
		},
		{
			name: "bearer token, websocket subprotocols without a token",
			in:   http.Header{"Authorization": {"Bearer secret-token"}, "Sec-Websocket-Protocol": {"v5.channel.k8s.io"}},
			want: http.Header{"Sec-Websocket-Protocol": {"v5.channel.k8s.io"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneDeep(tt.in)
			got := passedHeader(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("passedHeader = %v, want %v", got, tt.want)
			}
			if same := reflect.ValueOf(got).UnsafePointer() == reflect.ValueOf(tt.in).UnsafePointer(); same != tt.wantSame {
				t.Errorf("passed on the caller's map: %v, want %v", same, tt.wantSame)
			}
			if !reflect.DeepEqual(tt.in, before) {
				t.Errorf("the caller's header changed: %v, was %v", tt.in, before)
			}
			if !tt.wantSame {
				got["Added-By-Handler"] = []string{"x"}
				if _, leaked := tt.in["Added-By-Handler"]; leaked {
					t.Error("a header the handler added reached the caller's map")
				}
			}
		})
	}
}

func cloneDeep(h http.Header) http.Header {
	out := maps.Clone(h)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}

// TestIdentityHeaderNames keeps isIdentityHeader's quick first-letter test true to the lists it
// checks, and checks it matches regardless of case.
func TestIdentityHeaderNames(t *testing.T) {
	for _, name := range append(append([]string{}, strippedHeaders...), strippedPrefixes...) {
		switch name[0] | 0x20 {
		case 'a', 'i', 'x':
		default:
			t.Errorf("%q does not start with a letter isIdentityHeader looks for", name)
		}
	}
	for key, want := range map[string]bool{
		"Authorization": true, "authorization": true, "AUTHORIZATION": true, "Impersonate-Uid": true,
		"impersonate-extra-x": true, "X-Remote-Group": true, "x-remote-user": true,
		"Accept": false, "X-Forwarded-For": false, "Authorization2": false, "": false, "Impersonate": false,
	} {
		if got := isIdentityHeader(key); got != want {
			t.Errorf("isIdentityHeader(%q) = %v, want %v", key, got, want)
		}
	}
}

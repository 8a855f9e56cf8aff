package authn

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

func wsProtocol(token string) string {
	return WebSocketBearerProtocolPrefix + base64.RawURLEncoding.EncodeToString([]byte(token))
}

func TestWebSocketToken(t *testing.T) {
	tests := []struct {
		name      string
		upgrade   bool
		protocols []string
		wantOK    bool
		wantErr   string
		wantToken string // the token reviewed; "" for none
	}{
		{name: "websocket with a token and a subprotocol", upgrade: true, protocols: []string{"v5.channel.k8s.io, " + wsProtocol("good")}, wantOK: true, wantToken: "good"},
		{name: "token in a second header line", upgrade: true, protocols: []string{wsProtocol("good"), "v4.channel.k8s.io"}, wantOK: true, wantToken: "good"},
		{name: "rejected token", upgrade: true, protocols: []string{"v5.channel.k8s.io," + wsProtocol("forged")}, wantErr: "token rejected", wantToken: "forged"},
		{name: "not a websocket upgrade", protocols: []string{"v5.channel.k8s.io," + wsProtocol("good")}},
		{name: "websocket without a token", upgrade: true, protocols: []string{"v5.channel.k8s.io"}},
		{name: "two tokens", upgrade: true, protocols: []string{"v5.channel.k8s.io," + wsProtocol("a") + "," + wsProtocol("b")}, wantErr: "more than one"},
		{name: "bad base64", upgrade: true, protocols: []string{"v5.channel.k8s.io," + WebSocketBearerProtocolPrefix + "%%%"}, wantErr: "malformed"},
		{name: "empty token", upgrade: true, protocols: []string{"v5.channel.k8s.io," + WebSocketBearerProtocolPrefix}, wantErr: "malformed"},
		{name: "invalid UTF-8", upgrade: true, protocols: []string{"v5.channel.k8s.io," + WebSocketBearerProtocolPrefix + base64.RawURLEncoding.EncodeToString([]byte{0xff, 0xfe})}, wantErr: "malformed"},
		{name: "no other subprotocol", upgrade: true, protocols: []string{wsProtocol("good")}, wantErr: "no subprotocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reviewed []string
			tokens := authenticator.TokenFunc(func(_ context.Context, token string) (*authenticator.Response, bool, error) {
				reviewed = append(reviewed, token)
				if token != "good" {
					return nil, false, errors.New("token rejected by the API server")
				}
				return &authenticator.Response{User: &user.DefaultInfo{Name: "alice"}}, true, nil
			})
			a, err := NewWebSocketToken(tokens)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/exec/ns/pod/c", nil)
			if tt.upgrade {
				r.Header.Set("Connection", "keep-alive, Upgrade")
				r.Header.Set("Upgrade", "websocket")
			}
			for _, p := range tt.protocols {
				r.Header.Add("Sec-WebSocket-Protocol", p)
			}
			before := r.Header.Clone()
			resp, ok, err := a.AuthenticateRequest(r)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ok {
					t.Fatalf("got ok=%v err=%v, want an error containing %q", ok, err, tt.wantErr)
				}
				for _, tok := range []string{"good", "forged"} {
					if strings.Contains(err.Error(), base64.RawURLEncoding.EncodeToString([]byte(tok))) {
						t.Fatalf("error quotes the token: %v", err)
					}
				}
			case tt.wantOK:
				if err != nil || !ok || resp.User.GetName() != "alice" {
					t.Fatalf("got %v, %v, %v; want alice", resp, ok, err)
				}
			default:
				if err != nil || ok || resp != nil {
					t.Fatalf("got %v, %v, %v; want (nil, false, nil)", resp, ok, err)
				}
			}
			if want := tt.wantToken; (want == "" && len(reviewed) != 0) || (want != "" && (len(reviewed) != 1 || reviewed[0] != want)) {
				t.Fatalf("reviewed %q, want %q", reviewed, want)
			}
			if got := r.Header; len(got) != len(before) || strings.Join(got.Values("Sec-WebSocket-Protocol"), "|") != strings.Join(before.Values("Sec-WebSocket-Protocol"), "|") {
				t.Fatal("the request was modified")
			}
		})
	}
	if _, err := NewWebSocketToken(nil); err == nil {
		t.Error("NewWebSocketToken(nil) accepted")
	}
}

func TestWithoutWebSocketToken(t *testing.T) {
	tests := []struct {
		name     string
		values   []string
		wantRest []string
		wantHad  bool
	}{
		{"no header", nil, nil, false},
		{"no token", []string{"v5.channel.k8s.io"}, nil, false},
		{"token and others", []string{"v5.channel.k8s.io, " + wsProtocol("t"), "v4.channel.k8s.io"}, []string{"v5.channel.k8s.io, v4.channel.k8s.io"}, true},
		{"token only", []string{wsProtocol("t")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Sec-WebSocket-Protocol", v)
			}
			rest, had := WithoutWebSocketToken(h)
			if had != tt.wantHad || strings.Join(rest, "|") != strings.Join(tt.wantRest, "|") || (rest == nil) != (tt.wantRest == nil) {
				t.Fatalf("WithoutWebSocketToken = %q, %v; want %q, %v", rest, had, tt.wantRest, tt.wantHad)
			}
		})
	}
}

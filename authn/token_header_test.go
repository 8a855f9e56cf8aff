package authn

import (
	"bytes"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
)

func TestTokenHeaders(t *testing.T) {
	tests := []struct {
		name      string
		headers   []string
		wantToken string // the token reviewed; "" means no review
		wantErr   string // "" with wantToken "" means (nil, false, nil)
	}{
		{name: "no header"},
		{name: "Bearer", headers: []string{"Bearer " + testToken}, wantToken: testToken},
		{name: "lower-case scheme", headers: []string{"bearer " + testToken}, wantToken: testToken},
		{name: "upper-case scheme", headers: []string{"BEARER " + testToken}, wantToken: testToken},
		{name: "several spaces", headers: []string{"Bearer   " + testToken}, wantToken: testToken},
		{name: "surrounding whitespace", headers: []string{" Bearer " + testToken + " "}, wantToken: testToken},
		{name: "Basic", headers: []string{"Basic dXNlcjpzZWNyZXQtcGFzcw=="}, wantErr: "not of the Bearer scheme"},
		{name: "token without scheme", headers: []string{testToken}, wantErr: "not of the Bearer scheme"},
		{name: "empty header", headers: []string{""}, wantErr: "not of the Bearer scheme"},
		{name: "Bearer alone", headers: []string{"Bearer"}, wantErr: "empty bearer token"},
		{name: "Bearer and spaces", headers: []string{"Bearer  "}, wantErr: "empty bearer token"},
		{name: "tab separator", headers: []string{"Bearer\t" + testToken}, wantErr: "not of the Bearer scheme"},
		{name: "two words", headers: []string{"Bearer " + testToken + " extra-secret"}, wantErr: "malformed bearer token"},
		{name: "tab inside", headers: []string{"Bearer " + testToken + "\textra-secret"}, wantErr: "malformed bearer token"},
		{name: "two headers", headers: []string{"Bearer " + testToken, "Bearer other-secret"}, wantErr: "more than one Authorization header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
				return authenticated("alice"), nil
			})
			a := newTestToken(t, client, TokenOptions{})
			resp, ok, err := a.AuthenticateRequest(headerRequest(tt.headers...))
			specs := rec.sent()
			switch {
			case tt.wantToken != "":
				if !ok || err != nil || resp.User.GetName() != "alice" {
					t.Fatalf("ok=%v err=%v", ok, err)
				}
				if len(specs) != 1 || specs[0].Token != tt.wantToken {
					t.Fatalf("reviews sent = %#v, want one for the token", specs)
				}
				return
			case tt.wantErr != "":
				if ok || resp != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got (%v, %v, %v), want error containing %q", resp, ok, err, tt.wantErr)
				}
				for _, secret := range []string{testToken, "extra-secret", "other-secret", "dXNlcjpzZWNyZXQtcGFzcw=="} {
					assertNoSecret(t, err, "", secret)
				}
			default:
				if ok || resp != nil || err != nil {
					t.Fatalf("got (%v, %v, %v), want (nil, false, nil)", resp, ok, err)
				}
			}
			if len(specs) != 0 {
				t.Fatalf("%d TokenReviews sent for an unusable header, want 0", len(specs))
			}
		})
	}
}

func TestTokenEmptyTokenDirect(t *testing.T) {
	client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		return authenticated("alice"), nil
	})
	a := newTestToken(t, client, TokenOptions{})
	if _, ok, err := a.AuthenticateToken(t.Context(), ""); ok || err == nil {
		t.Fatalf("empty token: ok=%v err=%v, want an error", ok, err)
	}
	if n := rec.calls.Load(); n != 0 {
		t.Fatalf("%d TokenReviews sent for an empty token", n)
	}
}

// hasSpaceOrControlSlow is the byte-by-byte definition hasSpaceOrControl must agree with.
func hasSpaceOrControlSlow(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return true
		}
	}
	return false
}

// TestHasSpaceOrControl puts every byte value at every position of tokens of 1 to 72 bytes
// (so in the 32-byte blocks, the 8-byte words and the tail), in a token of otherwise valid
// bytes, including the neighbours of the limits (0x21, 0x7e, 0x80, 0xff).
func TestHasSpaceOrControl(t *testing.T) {
	for _, fill := range []byte{'a', 0x21, 0x7e, 0x80, 0xff} {
		for n := 1; n <= 72; n++ {
			b := bytes.Repeat([]byte{fill}, n)
			for pos := range n {
				for c := range 256 {
					b[pos] = byte(c)
					s := string(b)
					b[pos] = fill
					if got, want := hasSpaceOrControl(s), hasSpaceOrControlSlow(s); got != want {
						t.Fatalf("hasSpaceOrControl(%q) = %v, want %v", s, got, want)
					}
				}
			}
		}
	}
}

func FuzzHasSpaceOrControl(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	f.Add("abc\x7fdef ghijklmnop")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasSpaceOrControl(s), hasSpaceOrControlSlow(s); got != want {
			t.Fatalf("hasSpaceOrControl(%q) = %v, want %v", s, got, want)
		}
	})
}

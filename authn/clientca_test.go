package authn

import (
	"encoding/pem"
	"strings"
	"testing"

	"github.com/authfilter/authfilter/internal/testpki"
)

func TestNewStaticClientCA(t *testing.T) {
	a, b := testpki.NewCA(t, "a"), testpki.NewCA(t, "b")
	keyBlock := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("not-a-real-key-secret")})
	badDER := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage-der")})
	truncated := a.PEM[:len(a.PEM)/2]

	tests := []struct {
		name    string
		data    []byte
		wantN   int
		wantErr string
	}{
		{name: "one certificate", data: a.PEM, wantN: 1},
		{name: "two certificates", data: append(append([]byte{}, a.PEM...), b.PEM...), wantN: 2},
		{name: "text and other blocks are skipped", data: append(append([]byte("# bundle\n"), keyBlock...), a.PEM...), wantN: 1},
		{name: "empty", data: nil, wantErr: "no PEM CERTIFICATE block"},
		{name: "not PEM", data: []byte("hello"), wantErr: "no PEM CERTIFICATE block"},
		{name: "only a key", data: keyBlock, wantErr: "no PEM CERTIFICATE block"},
		{name: "bad DER", data: badDER, wantErr: "PEM block 1"},
		{name: "truncated", data: truncated, wantErr: "truncated PEM block"},
		{name: "valid then truncated", data: append(append([]byte{}, a.PEM...), truncated...), wantErr: "truncated PEM block after block 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewStaticClientCA(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "garbage") {
					t.Fatalf("error quotes the data: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pool, gen := s.CurrentCA()
			if pool == nil || gen != 1 {
				t.Fatalf("CurrentCA = %v, %d; want a pool and generation 1", pool, gen)
			}
			_, n, _ := parseCABundle(tt.data)
			if n != tt.wantN {
				t.Fatalf("parsed %d certificates, want %d", n, tt.wantN)
			}
		})
	}
}

func TestStaticClientCAVerifiesOnlyItsCAs(t *testing.T) {
	a, b, c := testpki.NewCA(t, "a"), testpki.NewCA(t, "b"), testpki.NewCA(t, "c")
	x := newTestX509(t, staticCA(t, append(append([]byte{}, a.PEM...), b.PEM...)), X509Options{})
	tests := []struct {
		name   string
		ca     *testpki.CA
		wantOK bool
	}{
		{name: "first CA", ca: a, wantOK: true},
		{name: "second CA", ca: b, wantOK: true},
		{name: "other CA", ca: c},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := tt.ca.Client(t, testpki.Options{CommonName: "u"}).Cert
			_, ok, err := x.AuthenticateRequest(tlsRequest(cert))
			if ok != tt.wantOK || (err == nil) != tt.wantOK {
				t.Fatalf("ok=%v err=%v, want ok=%v", ok, err, tt.wantOK)
			}
		})
	}
}

func TestNilStaticClientCA(t *testing.T) {
	if pool, gen := (*StaticClientCA)(nil).CurrentCA(); pool != nil || gen != 0 {
		t.Fatalf("nil StaticClientCA returned %v, %d", pool, gen)
	}
}

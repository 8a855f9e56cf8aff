package authn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/internal/testpki"
)

// nilCA is a ClientCA with nothing loaded.
type nilCA struct{}

func (nilCA) CurrentCA() (*x509.CertPool, uint64) { return nil, 0 }

func newTestX509(t *testing.T, ca ClientCA, opts X509Options) *X509 {
	t.Helper()
	a, err := NewX509(ca, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func staticCA(t *testing.T, pemBundle []byte) *StaticClientCA {
	t.Helper()
	s, err := NewStaticClientCA(pemBundle)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestX509(t *testing.T) {
	root := testpki.NewCA(t, "root")
	other := testpki.NewCA(t, "other")
	inter := root.Intermediate(t, "intermediate")
	now := time.Now()

	valid := root.Client(t, testpki.Options{CommonName: "alice", Organization: []string{"dev", "system:masters"}}).Cert
	noOrg := root.Client(t, testpki.Options{CommonName: "bob"}).Cert
	wrongCA := other.Client(t, testpki.Options{CommonName: "mallory"}).Cert
	expired := root.Client(t, testpki.Options{CommonName: "old", NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}).Cert
	notYet := root.Client(t, testpki.Options{CommonName: "early", NotBefore: now.Add(time.Hour), NotAfter: now.Add(2 * time.Hour)}).Cert
	serverOnly := root.Client(t, testpki.Options{CommonName: "server", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}).Cert
	emptyCN := root.Client(t, testpki.Options{Organization: []string{"dev"}}).Cert
	viaInter := inter.Client(t, testpki.Options{CommonName: "carol", Organization: []string{"ops"}}).Cert

	tests := []struct {
		name    string
		ca      ClientCA
		certs   []*x509.Certificate
		noTLS   bool
		want    *user.DefaultInfo
		wantErr string // "" means no error
	}{
		{name: "valid maps CN and O", certs: []*x509.Certificate{valid},
			want: &user.DefaultInfo{Name: "alice", Groups: []string{"dev", "system:masters"}}},
		{name: "valid without O", certs: []*x509.Certificate{noOrg}, want: &user.DefaultInfo{Name: "bob"}},
		{name: "intermediate chain", certs: []*x509.Certificate{viaInter, inter.Cert},
			want: &user.DefaultInfo{Name: "carol", Groups: []string{"ops"}}},
		{name: "intermediate missing", certs: []*x509.Certificate{viaInter}, wantErr: "signed by unknown authority"},
		{name: "wrong CA", certs: []*x509.Certificate{wrongCA}, wantErr: "signed by unknown authority"},
		{name: "expired", certs: []*x509.Certificate{expired}, wantErr: "x509: certificate has expired or is not yet valid"},
		{name: "not yet valid", certs: []*x509.Certificate{notYet}, wantErr: "x509: certificate has expired or is not yet valid"},
		{name: "serverAuth only", certs: []*x509.Certificate{serverOnly}, wantErr: "incompatible key usage"},
		{name: "empty CommonName", certs: []*x509.Certificate{emptyCN}, wantErr: "empty CommonName"},
		{name: "no CA loaded", ca: nilCA{}, certs: []*x509.Certificate{valid}, wantErr: "no client CA bundle is loaded"},
		{name: "nil ClientCAFile loads nothing", ca: (*ClientCAFile)(nil), certs: []*x509.Certificate{valid},
			wantErr: "no client CA bundle is loaded"},
		{name: "no peer certificates", certs: nil},
		{name: "no TLS", noTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := tt.ca
			if ca == nil {
				ca = staticCA(t, root.PEM)
			}
			verified, err := newVerifiedChains(0, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			// Built directly so a typed-nil CA can be tested.
			a := &X509{ca: ca, now: time.Now, verified: verified}
			r := tlsRequest(tt.certs...)
			if tt.noTLS {
				r.TLS = nil
			}
			for call := range 2 { // the second call is answered by the verification cache, if any
				resp, ok, err := a.AuthenticateRequest(r)
				switch {
				case tt.wantErr != "":
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("call %d: err = %v, want one containing %q", call, err, tt.wantErr)
					}
					if ok || resp != nil {
						t.Fatalf("call %d: failed verification returned ok=%v resp=%v", call, ok, resp)
					}
					if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "BEGIN") {
						t.Fatalf("call %d: error carries PEM material: %v", call, err)
					}
				case tt.want == nil:
					if err != nil || ok || resp != nil {
						t.Fatalf("call %d: got (%v, %v, %v), want (nil, false, nil)", call, resp, ok, err)
					}
				default:
					if err != nil || !ok {
						t.Fatalf("call %d: got ok=%v err=%v, want a user", call, ok, err)
					}
					want := *tt.want
					want.Extra = map[string][]string{user.CredentialIDKey: {credentialID(tt.certs[0])}}
					if !sameContents(resp.User, &want) {
						t.Fatalf("call %d: user = %+v, want %+v", call, contentsOf(resp.User), want)
					}
					if !strings.HasPrefix(want.Extra[user.CredentialIDKey][0], "X509SHA256=") || len(want.Extra[user.CredentialIDKey][0]) != len("X509SHA256=")+64 {
						t.Fatalf("credential id %q is not X509SHA256=<64 hex digits>", want.Extra[user.CredentialIDKey][0])
					}
				}
			}
			if tt.wantErr != "" {
				if n := verified.cache.Len(); n != 0 {
					t.Fatalf("a failed verification was cached (%d entries)", n)
				}
			}
		})
	}
}

// TestX509UserIsImmutable checks that the user of a certificate, which the verification cache
// shares with every later request presenting it, cannot be changed through what its methods
// return, and does not alias the certificate.
func TestX509UserIsImmutable(t *testing.T) {
	root := testpki.NewCA(t, "root")
	cert := root.Client(t, testpki.Options{CommonName: "alice", Organization: []string{"dev"}}).Cert
	a := newTestX509(t, staticCA(t, root.PEM), X509Options{})
	resp, ok, err := a.AuthenticateRequest(tlsRequest(cert))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	resp.User.GetGroups()[0] = "system:masters"
	for k := range resp.User.GetExtra() {
		resp.User.GetExtra()[k][0] = "changed"
	}
	if cert.Subject.Organization[0] != "dev" {
		t.Fatal("the user's groups alias the certificate's Organization")
	}
	again, ok, err := a.AuthenticateRequest(tlsRequest(cert))
	if err != nil || !ok || again != resp {
		t.Fatalf("second request: %v, %v, %v; want the cached response", again, ok, err)
	}
	if g := again.User.GetGroups(); len(g) != 1 || g[0] != "dev" {
		t.Errorf("the cached user's groups are %q after a caller wrote to what GetGroups returned", g)
	}
	if id := again.User.GetExtra()[user.CredentialIDKey]; len(id) != 1 || id[0] != credentialID(cert) {
		t.Errorf("the cached user's credential id is %q after a caller wrote to what GetExtra returned", id)
	}
}

func TestX509UsesInjectedClock(t *testing.T) {
	root := testpki.NewCA(t, "root")
	cert := root.Client(t, testpki.Options{CommonName: "alice"}).Cert // valid for an hour around now
	tests := []struct {
		name   string
		offset time.Duration
		wantOK bool
	}{
		{name: "now", offset: 0, wantOK: true},
		{name: "two hours later", offset: 2 * time.Hour},
		{name: "two hours earlier", offset: -2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := time.Now().Add(tt.offset)
			a := newTestX509(t, staticCA(t, root.PEM), X509Options{Now: func() time.Time { return at }})
			_, ok, err := a.AuthenticateRequest(tlsRequest(cert))
			if ok != tt.wantOK || (err == nil) != tt.wantOK {
				t.Fatalf("ok=%v err=%v, want ok=%v", ok, err, tt.wantOK)
			}
		})
	}
}

func TestNewX509RejectsNilCA(t *testing.T) {
	tests := []struct {
		name string
		ca   ClientCA
	}{
		{name: "untyped nil", ca: nil},
		{name: "nil *StaticClientCA", ca: (*StaticClientCA)(nil)},
		{name: "nil *ClientCAFile", ca: (*ClientCAFile)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, err := NewX509(tt.ca, X509Options{}); err == nil || a != nil {
				t.Fatalf("NewX509(%v) = %v, %v; want an error", tt.ca, a, err)
			}
		})
	}
}

// TestX509OverRealMTLS runs a TLS server that requests (but does not itself verify) client
// certificates, as authfilter's users configure it, and authenticates on the server side.
func TestX509OverRealMTLS(t *testing.T) {
	root := testpki.NewCA(t, "root")
	other := testpki.NewCA(t, "other")
	a := newTestX509(t, staticCA(t, root.PEM), X509Options{})

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, ok, err := a.AuthenticateRequest(r)
		switch {
		case err != nil:
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case !ok:
			fmt.Fprint(w, "no certificate")
		default:
			fmt.Fprintf(w, "%s %v", resp.User.GetName(), resp.User.GetGroups())
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	get := func(t *testing.T, cert *x509.Certificate, key any) (int, string) {
		t.Helper()
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}}
		}
		t.Cleanup(tr.CloseIdleConnections)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(body))
	}

	good := root.Client(t, testpki.Options{CommonName: "alice", Organization: []string{"dev"}})
	bad := other.Client(t, testpki.Options{CommonName: "mallory"})
	tests := []struct {
		name     string
		cert     *x509.Certificate
		key      any
		wantCode int
		wantBody string
	}{
		{name: "trusted client", cert: good.Cert, key: good.Key, wantCode: 200, wantBody: "alice [dev]"},
		{name: "untrusted client", cert: bad.Cert, key: bad.Key, wantCode: 401, wantBody: "Unauthorized"},
		{name: "no client certificate", wantCode: 200, wantBody: "no certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, tt.cert, tt.key)
			if code != tt.wantCode || body != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestX509SubjectUID(t *testing.T) {
	root := testpki.NewCA(t, "root")
	tests := []struct {
		name    string
		uids    []any
		wantUID string
		wantErr bool
	}{
		{name: "no UID attribute", wantUID: ""},
		{name: "one UID attribute", uids: []any{"1001"}, wantUID: "1001"},
		{name: "two UID attributes are refused", uids: []any{"1001", "1002"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := root.Client(t, testpki.Options{CommonName: "dave", ExtraNames: uidNames(tt.uids)}).Cert
			a, err := NewX509(staticCA(t, root.PEM), X509Options{})
			if err != nil {
				t.Fatal(err)
			}
			resp, ok, err := a.AuthenticateRequest(tlsRequest(cert))
			if tt.wantErr {
				if err == nil || ok {
					t.Fatalf("got ok=%v err=%v, want an error", ok, err)
				}
				return
			}
			if err != nil || !ok || resp.User.GetUID() != tt.wantUID || resp.User.GetName() != "dave" {
				t.Fatalf("got %+v, %v, %v; want user dave with UID %q", resp, ok, err, tt.wantUID)
			}
		})
	}
}

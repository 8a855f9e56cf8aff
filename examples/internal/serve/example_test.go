package serve_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/authfilter/authfilter/examples/internal/serve"
)

// A demo's PKI: a CA for curl's --cacert and the filter's client CA, a serving certificate for
// this machine, and a client certificate whose subject Kubernetes reads as a user and group.
func ExampleCA() {
	ca, err := serve.NewCA("demo-ca")
	if err != nil {
		panic(err)
	}
	servingPEM, servingKey, err := ca.Issue("demo-server", nil, serve.LoopbackHosts(), x509.ExtKeyUsageServerAuth)
	if err != nil {
		panic(err)
	}
	serving, err := tls.X509KeyPair(servingPEM, servingKey)
	if err != nil {
		panic(err)
	}
	clientPEM, _, err := ca.Issue("system:node:node-a", []string{"system:nodes"}, nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(serving.Certificate), "serving certificate")
	fmt.Println(strings.Count(string(ca.CertPEM())+string(clientPEM), "BEGIN CERTIFICATE"), "PEM certificates to write out")
	// Output:
	// 1 serving certificate
	// 2 PEM certificates to write out
}

func ExampleShellQuote() {
	words := []string{"curl", "--cacert", "/tmp/my demo/ca.crt", "-H", "@/tmp/demo/token-header", "https://127.0.0.1:10250/metrics"}
	for i, w := range words {
		words[i] = serve.ShellQuote(w)
	}
	fmt.Println(strings.Join(words, " "))
	// Output: curl --cacert '/tmp/my demo/ca.crt' -H @/tmp/demo/token-header https://127.0.0.1:10250/metrics
}

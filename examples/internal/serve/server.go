package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-logr/logr"
)

// shutdownTimeout is how long Serve waits for requests in flight when ctx is done.
const shutdownTimeout = 10 * time.Second

// LoopbackHosts returns the names a certificate for this machine is valid for: localhost,
// 127.0.0.1 and ::1, in a new slice the caller may append to.
func LoopbackHosts() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// ServingCertificate loads the serving key pair from certFile and keyFile or, when both are
// empty, self-signs one in memory for the subject cn and hosts (see [SelfSigned]). Setting only
// one of the files is a loading error: callers check the pair first for a better message.
func ServingCertificate(certFile, keyFile, cn string, hosts []string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("loading serving certificate: %w", err)
		}
		return cert, nil
	}
	certPEM, keyPEM, err := SelfSigned(cn, hosts, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-signing serving certificate: %w", err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// NewServer returns an HTTPS server for handler with the serving certificate cert. Its TLS
// configuration (TLS 1.2 or later) requests a client certificate but neither requires nor
// verifies one, so that token and anonymous clients can connect too: verifying a certificate
// is the authfilter filter's job, against its client CA. The server's own error log goes to
// logger, named "http", and request headers must arrive within 10 seconds.
func NewServer(handler http.Handler, cert tls.Certificate, logger logr.Logger) *http.Server {
	return &http.Server{
		Handler: handler,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequestClientCert,
			MinVersion:   tls.VersionTLS12,
		},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(logWriter{logger.WithName("http")}, "", 0),
	}
}

// Serve listens on address and port (0: any free port) and serves server over TLS, with the
// certificate of server.TLSConfig (see [NewServer]), until ctx is done; it then logs
// "shutting down" to logger and shuts the server down gracefully, giving requests in flight up
// to 10 seconds. Once the server accepts connections Serve calls listening, when not nil, with
// the https URL that clients on this machine use (127.0.0.1 for an unspecified address);
// listening runs on Serve's goroutine before it waits for ctx, so it may log, print commands
// and signal readiness. Serve returns the error of listening, serving or shutting down, and
// nil after a clean shutdown.
func Serve(ctx context.Context, server *http.Server, address string, port int, logger logr.Logger, listening func(url string)) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(address, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%w (choose another address or port with --address, --port)", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- server.ServeTLS(ln, "", "") }()
	if listening != nil {
		listening(baseURL(address, ln.Addr()))
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = server.Shutdown(shutdownCtx)
	<-errc // http.ErrServerClosed
	return err
}

// baseURL returns the https URL clients on this machine use for a listener at addr that was
// asked to listen on address: 127.0.0.1 for an empty or unspecified address, the host name
// for a name, else the listener's IP; always with the listener's port.
func baseURL(address string, addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(address); address == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	} else if ip == nil {
		host = address // a host name
	}
	return "https://" + net.JoinHostPort(host, port)
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/authfilter/authfilter"
)

const (
	configAPIVersion = "kubelet.config.k8s.io/v1beta1"
	configKind       = "KubeletConfiguration"
	defaultAddress   = "0.0.0.0"
	demoAddress      = "127.0.0.1"
	defaultPort      = 10250
)

// settings is what run needs, merged from the command line and the --config file.
type settings struct {
	// demo is true with --demo, or when neither --kubeconfig nor --config is given.
	demo bool
	// kubeconfig is the path of the kubeconfig reaching the API server; empty means no client.
	kubeconfig string
	// nodeName is --hostname-override, or the lowercased host name.
	nodeName string
	// verbosity is -v.
	verbosity int
	// port is the port to listen on; 0 means any free port.
	port int
	// config holds address, port, TLS files, authentication and authorization, with the
	// KubeletConfiguration v1beta1 defaults applied.
	config kubeletconfigv1beta1.KubeletConfiguration
	// authFlags lists the authentication and authorization flags given on the command line.
	authFlags []string
}

// flagValues holds the parsed flags before they are merged with the config file.
type flagValues struct {
	address, tlsCertFile, tlsKeyFile, clientCAFile   string
	authzMode, kubeconfig, hostnameOverride, cfgFile string
	port, verbosity                                  int
	anonymous, tokenWebhook, demo                    bool
	tokenTTL, authorizedTTL, unauthorizedTTL         time.Duration
}

func newFlagSet(output io.Writer) (*flag.FlagSet, *flagValues) {
	fs := flag.NewFlagSet("kubelet", flag.ContinueOnError)
	fs.SetOutput(output)
	v := &flagValues{}
	fs.StringVar(&v.address, "address", defaultAddress, "the IP address to serve on (the demo uses "+demoAddress+" unless set)")
	fs.IntVar(&v.port, "port", defaultPort, "the port to serve on")
	fs.StringVar(&v.tlsCertFile, "tls-cert-file", "", "x509 serving certificate (with intermediates after it); when it and --tls-private-key-file are empty, a self-signed certificate is generated in memory")
	fs.StringVar(&v.tlsKeyFile, "tls-private-key-file", "", "x509 private key matching --tls-cert-file")
	fs.StringVar(&v.clientCAFile, "client-ca-file", "", "CA bundle that client certificates must chain to; empty disables client certificate authentication")
	fs.BoolVar(&v.anonymous, "anonymous-auth", authfilter.DefaultAnonymousEnabled, "let requests without credentials through as system:anonymous (group system:unauthenticated), still subject to authorization")
	fs.BoolVar(&v.tokenWebhook, "authentication-token-webhook", authfilter.DefaultTokenWebhookEnabled, "authenticate bearer tokens with TokenReview")
	fs.DurationVar(&v.tokenTTL, "authentication-token-webhook-cache-ttl", authfilter.DefaultTokenWebhookCacheTTL, "how long to cache TokenReview results (0 means the default)")
	fs.StringVar(&v.authzMode, "authorization-mode", string(authfilter.DefaultAuthorizationMode), "AlwaysAllow or Webhook (SubjectAccessReview)")
	fs.DurationVar(&v.authorizedTTL, "authorization-webhook-cache-authorized-ttl", authfilter.DefaultAuthorizedCacheTTL, "how long to cache allowed SubjectAccessReview decisions (0 means the default)")
	fs.DurationVar(&v.unauthorizedTTL, "authorization-webhook-cache-unauthorized-ttl", authfilter.DefaultUnauthorizedCacheTTL, "how long to cache denied SubjectAccessReview decisions (0 means the default)")
	fs.StringVar(&v.kubeconfig, "kubeconfig", "", "kubeconfig of the API server that answers the reviews")
	fs.StringVar(&v.hostnameOverride, "hostname-override", "", "the node name (default: the lowercased host name)")
	fs.StringVar(&v.cfgFile, "config", "", "a kubelet.config.k8s.io/v1beta1 KubeletConfiguration YAML file; flags given on the command line override it")
	fs.BoolVar(&v.demo, "demo", false, "generate certificates and a token and answer reviews in process (the default without --kubeconfig and --config)")
	fs.IntVar(&v.verbosity, "v", 0, "log verbosity; 2 also logs why requests were refused")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: kubelet [flags]

A kubelet-like HTTPS server whose whole API is protected by authfilter.

Without --kubeconfig and --config (or with --demo) it runs a self-contained demo on
127.0.0.1:10250 (change with --port): it generates certificates and a token, answers
TokenReviews and SubjectAccessReviews in process, and prints curl commands to try.

Unset settings take the KubeletConfiguration v1beta1 defaults (anonymous off, token webhook
on, authorization mode Webhook), not the kubelet's insecure legacy flag defaults.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, v
}

// parseSettings parses args and merges them with the --config file: the file first, then the
// flags given on the command line, then the KubeletConfiguration v1beta1 defaults.
func parseSettings(args []string, output io.Writer) (*settings, error) {
	fs, v := newFlagSet(output)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	s := &settings{kubeconfig: v.kubeconfig, verbosity: v.verbosity}
	s.demo = v.demo || (v.kubeconfig == "" && v.cfgFile == "")
	if s.demo {
		if v.kubeconfig != "" || v.cfgFile != "" {
			return nil, errors.New("--demo cannot be combined with --kubeconfig or --config")
		}
		for _, name := range []string{"client-ca-file", "tls-cert-file", "tls-private-key-file"} {
			if set[name] {
				return nil, fmt.Errorf("--%s needs --kubeconfig or --config: the demo generates its own certificates", name)
			}
		}
	}
	if v.cfgFile != "" {
		cfg, err := loadConfigFile(v.cfgFile)
		if err != nil {
			return nil, err
		}
		s.config = *cfg
	}
	if err := applyFlags(s, v, set); err != nil {
		return nil, err
	}
	authfilter.ApplyKubeletDefaults(&s.config)

	name, err := nodeName(v.hostnameOverride)
	if err != nil {
		return nil, err
	}
	s.nodeName = name
	return s, nil
}

// applyFlags copies the flags given on the command line over s.config, fills address and port,
// and checks the TLS file pair.
func applyFlags(s *settings, v *flagValues, set map[string]bool) error {
	c := &s.config
	if set["address"] {
		c.Address = v.address
	}
	if c.Address == "" {
		c.Address = defaultAddress
		if s.demo {
			c.Address = demoAddress
		}
	}
	switch {
	case set["port"]:
		s.port = v.port
	case c.Port != 0:
		s.port = int(c.Port)
	default:
		s.port = defaultPort
	}
	if s.port < 0 || s.port > 65535 {
		return fmt.Errorf("port %d is out of range 0-65535", s.port)
	}
	c.Port = int32(s.port)
	if set["tls-cert-file"] {
		c.TLSCertFile = v.tlsCertFile
	}
	if set["tls-private-key-file"] {
		c.TLSPrivateKeyFile = v.tlsKeyFile
	}
	if (c.TLSCertFile == "") != (c.TLSPrivateKeyFile == "") {
		return errors.New("tlsCertFile and tlsPrivateKeyFile (--tls-cert-file, --tls-private-key-file) must be set together, or both left empty for a self-signed certificate")
	}

	authn, authz := &c.Authentication, &c.Authorization
	if set["client-ca-file"] {
		authn.X509.ClientCAFile = v.clientCAFile
	}
	if set["anonymous-auth"] {
		authn.Anonymous.Enabled = &v.anonymous
	}
	if set["authentication-token-webhook"] {
		authn.Webhook.Enabled = &v.tokenWebhook
	}
	if set["authentication-token-webhook-cache-ttl"] {
		authn.Webhook.CacheTTL.Duration = v.tokenTTL
	}
	if set["authorization-mode"] {
		authz.Mode = kubeletconfigv1beta1.KubeletAuthorizationMode(v.authzMode)
	}
	if set["authorization-webhook-cache-authorized-ttl"] {
		authz.Webhook.CacheAuthorizedTTL.Duration = v.authorizedTTL
	}
	if set["authorization-webhook-cache-unauthorized-ttl"] {
		authz.Webhook.CacheUnauthorizedTTL.Duration = v.unauthorizedTTL
	}
	// The flags that change the authentication or authorization chain.
	for _, name := range []string{
		"client-ca-file", "anonymous-auth", "authentication-token-webhook",
		"authentication-token-webhook-cache-ttl", "authorization-mode",
		"authorization-webhook-cache-authorized-ttl", "authorization-webhook-cache-unauthorized-ttl",
	} {
		if set[name] {
			s.authFlags = append(s.authFlags, "--"+name)
		}
	}
	return nil
}

// loadConfigFile reads a KubeletConfiguration v1beta1 YAML file strictly and resolves its
// relative file paths against the file's directory, as the kubelet does.
func loadConfigFile(path string) (*kubeletconfigv1beta1.KubeletConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	// Strict like the kubelet's codec: duplicate keys, unknown fields and field names that
	// differ only in case (which encoding/json, and so yaml.UnmarshalStrict, would accept) are
	// errors.
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{}
	strictErrs, err := sigsjson.UnmarshalStrict(j, cfg)
	if err == nil {
		err = errors.Join(strictErrs...)
	}
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	if cfg.APIVersion != configAPIVersion || cfg.Kind != configKind {
		return nil, fmt.Errorf("--config %s: got apiVersion %q kind %q, want apiVersion %q kind %q",
			path, cfg.APIVersion, cfg.Kind, configAPIVersion, configKind)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&cfg.Authentication.X509.ClientCAFile, &cfg.TLSCertFile, &cfg.TLSPrivateKeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return cfg, nil
}

// nodeName returns the override, or the host name, trimmed and lowercased like the kubelet's.
func nodeName(override string) (string, error) {
	name := override
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("node name: %w (set --hostname-override)", err)
		}
		name = h
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", errors.New("node name is empty (set --hostname-override)")
	}
	return name, nil
}

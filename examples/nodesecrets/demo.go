package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/authfilter/authfilter/examples/internal/serve"
)

// demoNodes are the demo's nodes, each running one pod that uses one secret.
var demoNodes = []struct{ node, namespace, pod, secret string }{
	{"node-a", "team-a", "web", "db-password"},
	{"node-b", "team-b", "api", "api-key"},
}

// demo is the no-cluster mode: a fake API server holding the nodes, pods and secrets above,
// whose RBAC allows nothing and which knows no token, and certificates in a temporary
// directory. Close deletes the directory.
type demo struct {
	dir     string
	caPEM   []byte
	caFile  string
	certs   map[string][2]string // node name -> certificate file, key file
	serving tls.Certificate
	client  *fake.Clientset
	sars    atomic.Int64 // SubjectAccessReviews the fake answered
}

func newDemo() (*demo, error) {
	dir, err := os.MkdirTemp("", "authfilter-nodesecrets-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &demo{dir: dir, certs: map[string][2]string{}}
	if err := d.generate(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: %w", err)
	}
	var objs []runtime.Object
	for _, n := range demoNodes {
		objs = append(objs,
			&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.node}},
			&corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Namespace: n.namespace, Name: n.pod, UID: types.UID("uid-" + n.pod)},
				Spec: corev1.PodSpec{NodeName: n.node, Containers: []corev1.Container{{Name: "app", Image: "app"}},
					Volumes: []corev1.Volume{{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: n.secret}}}}},
			},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: n.namespace, Name: n.secret},
				Data: map[string][]byte{"value": []byte("demo value of " + n.secret)}},
		)
	}
	d.client = fake.NewClientset(objs...)
	d.client.PrependReactor("create", "tokenreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		review := a.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		review.Status = authenticationv1.TokenReviewStatus{Authenticated: false}
		return true, review, nil
	})
	d.client.PrependReactor("create", "subjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		d.sars.Add(1)
		review := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		review.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: false, Reason: "the demo's RBAC allows nothing"}
		return true, review, nil
	})
	return d, nil
}

func (d *demo) generate() error {
	ca, err := serve.NewCA("authfilter-nodesecrets-demo-ca")
	if err != nil {
		return err
	}
	var errs []error
	write := func(name string, data []byte) string {
		path := filepath.Join(d.dir, name)
		errs = append(errs, os.WriteFile(path, data, 0o600))
		return path
	}
	d.caPEM = ca.CertPEM()
	d.caFile = write("ca.crt", d.caPEM)
	certPEM, keyPEM, err := ca.Issue("nodesecrets", nil, serve.LoopbackHosts(), x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
	}
	if d.serving, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return err
	}
	for _, n := range demoNodes {
		// A kubelet's client certificate: CN system:node:<name>, O system:nodes.
		certPEM, keyPEM, err := ca.Issue("system:node:"+n.node, []string{"system:nodes"}, nil, x509.ExtKeyUsageClientAuth)
		if err != nil {
			return err
		}
		d.certs[n.node] = [2]string{write(n.node+".crt", certPEM), write(n.node+".key", keyPEM)}
	}
	return errors.Join(errs...)
}

// Close deletes the demo's directory.
func (d *demo) Close() error { return os.RemoveAll(d.dir) }

// printCommands writes curl commands against url and the status each returns.
func (d *demo) printCommands(w io.Writer, url string) {
	fmt.Fprintf(w, "\nDemo: two nodes, one pod and one secret each; every node may read only its own pod's secret.\n")
	for _, n := range demoNodes {
		cert := d.certs[n.node]
		curl := fmt.Sprintf("curl -sS -w ' -> %%{http_code}\\n' --cacert %s --cert %s --key %s",
			serve.ShellQuote(d.caFile), serve.ShellQuote(cert[0]), serve.ShellQuote(cert[1]))
		fmt.Fprintf(w, "\n# %s runs %s/%s, which mounts the secret %s:\n", n.node, n.namespace, n.pod, n.secret)
		for _, o := range demoNodes {
			status := "403"
			if o.node == n.node {
				status = "200"
			}
			fmt.Fprintf(w, "%s %s/api/v1/namespaces/%s/secrets/%s    # %s\n", curl, url, o.namespace, o.secret, status)
		}
		fmt.Fprintf(w, "%s '%s/api/v1/namespaces/%s/secrets'    # 403: listing is not allowed\n", curl, url, n.namespace)
	}
	fmt.Fprintln(w)
}

//go:build e2e

package kubelet_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/authfilter/authfilter/test/e2e/cluster"
)

// kubeletAPIAdmin is the ClusterRole and binding README.md documents for the API server's
// kubelet client identity.
type kubeletAPIAdmin struct {
	role    rbacv1.ClusterRole
	binding rbacv1.ClusterRoleBinding
}

// parseKubeletAPIAdmin decodes a YAML stream holding exactly one ClusterRole and one
// ClusterRoleBinding, strictly.
func parseKubeletAPIAdmin(t *testing.T, src string) kubeletAPIAdmin {
	t.Helper()
	var out kubeletAPIAdmin
	var roles, bindings int
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(src, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
		var err error
		switch meta.Kind {
		case "ClusterRole":
			roles++
			err = yaml.UnmarshalStrict([]byte(doc), &out.role)
		case "ClusterRoleBinding":
			bindings++
			err = yaml.UnmarshalStrict([]byte(doc), &out.binding)
		default:
			t.Fatalf("unexpected kind %q in:\n%s", meta.Kind, doc)
		}
		if err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
	}
	if roles != 1 || bindings != 1 {
		t.Fatalf("want one ClusterRole and one ClusterRoleBinding, got %d and %d in:\n%s", roles, bindings, src)
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// testdataKubeletAPIAdmin is what TestNodeProxy grants.
func testdataKubeletAPIAdmin(t *testing.T) kubeletAPIAdmin {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "kubelet-api-admin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return parseKubeletAPIAdmin(t, string(b))
}

// readmeYAMLBlocks returns the ```yaml blocks of the repository's README.md.
func readmeYAMLBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?ms)^```yaml\n(.*?)^```").FindAllStringSubmatch(string(b), -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestREADMEMatchesTestdata checks that the RBAC README.md tells deployers to grant the API
// server's kubelet client identity is exactly what TestNodeProxy grants (and proves
// sufficient), and that README names system:auth-delegator for the server's own identity, as
// every test here binds. It needs no cluster.
func TestREADMEMatchesTestdata(t *testing.T) {
	want := testdataKubeletAPIAdmin(t)
	var found, delegator int
	for _, block := range readmeYAMLBlocks(t) {
		switch {
		case strings.Contains(block, "name: "+want.role.Name):
			found++
			got := parseKubeletAPIAdmin(t, block)
			if !equality.Semantic.DeepEqual(got.role, want.role) {
				t.Errorf("README.md's ClusterRole differs from testdata/kubelet-api-admin.yaml:\nREADME:   %+v\ntestdata: %+v", got.role.Rules, want.role.Rules)
			}
			if !equality.Semantic.DeepEqual(got.binding, want.binding) {
				t.Errorf("README.md's ClusterRoleBinding differs from testdata/kubelet-api-admin.yaml:\nREADME:   %+v\ntestdata: %+v", got.binding, want.binding)
			}
		case strings.Contains(block, "system:auth-delegator"):
			delegator++
			var b rbacv1.ClusterRoleBinding
			if err := yaml.UnmarshalStrict([]byte(block), &b); err != nil {
				t.Fatalf("README auth-delegator block: %v", err)
			}
			if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != "system:auth-delegator" {
				t.Errorf("README auth-delegator block binds %+v", b.RoleRef)
			}
		}
	}
	if found != 1 || delegator != 1 {
		t.Fatalf("README.md has %d %s blocks and %d auth-delegator blocks, want 1 and 1", found, want.role.Name, delegator)
	}
	// What the test grants must name the API server's kubelet client identity and cover the
	// subresources TestNodeProxy fetches.
	if s := want.binding.Subjects; len(s) != 1 || s[0].Kind != rbacv1.UserKind || s[0].Name != cluster.KubeletClientCN {
		t.Errorf("binding subjects = %+v, want the user %s", s, cluster.KubeletClientCN)
	}
	if want.binding.RoleRef.Name != want.role.Name {
		t.Errorf("binding refers to %q, want %q", want.binding.RoleRef.Name, want.role.Name)
	}
}

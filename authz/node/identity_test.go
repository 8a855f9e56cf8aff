package node

import (
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		name     string
		user     user.Info
		wantNode string
		wantOK   bool
	}{
		{"node", nodeUser("n1"), "n1", true},
		{"node with dots", &user.DefaultInfo{Name: "system:node:ip-10-0-0-1.ec2.internal", Groups: []string{"system:nodes"}}, "ip-10-0-0-1.ec2.internal", true},
		{"group only, other name", &user.DefaultInfo{Name: "alice", Groups: []string{"system:nodes"}}, "", false},
		{"group member named like a service account", &user.DefaultInfo{Name: "system:serviceaccount:kube-system:n1", Groups: []string{"system:nodes"}}, "", false},
		{"node name without the group", &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:authenticated"}}, "", false},
		{"node name with no groups", &user.DefaultInfo{Name: "system:node:n1"}, "", false},
		{"empty node name", &user.DefaultInfo{Name: "system:node:", Groups: []string{"system:nodes"}}, "", false},
		{"prefix case differs", &user.DefaultInfo{Name: "System:Node:n1", Groups: []string{"system:nodes"}}, "", false},
		{"group case differs", &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"System:Nodes"}}, "", false},
		{"nil user", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Identify(tt.user)
			if got != tt.wantNode || ok != tt.wantOK {
				t.Errorf("Identify = (%q, %v), want (%q, %v)", got, ok, tt.wantNode, tt.wantOK)
			}
		})
	}
}

// TestAuthorizeNonNodes checks that users who are not nodes get NoOpinion with no reason even
// for requests a node would be allowed, so a union falls through to the next authorizer.
func TestAuthorizeNonNodes(t *testing.T) {
	g := NewGraph()
	g.AddPod(pod("ns1", "p1", "n1", secretVolume("s1")))
	a := newGraphAuthorizer(t, g, Options{})
	allowedForNode := []req{
		{verb: "get", resource: "nodes", name: "n1"},
		{verb: "get", resource: "secrets", ns: "ns1", name: "s1"},
		{verb: "list", resource: "services"},
	}
	users := map[string]user.Info{
		"system:nodes member with another name": &user.DefaultInfo{Name: "alice", Groups: []string{"system:nodes"}},
		"system:node:n1 outside system:nodes":   &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:authenticated"}},
		"empty node name":                       &user.DefaultInfo{Name: "system:node:", Groups: []string{"system:nodes"}},
		"nil user":                              nil,
	}
	for name, u := range users {
		for _, r := range allowedForNode {
			t.Run(name+"/"+r.verb+" "+r.resource, func(t *testing.T) {
				d, reason := decision(t, a, u, r)
				if d != authorizer.DecisionNoOpinion || reason != "" {
					t.Errorf("got (%v, %q), want NoOpinion with no reason", d, reason)
				}
			})
		}
	}
	// The same requests from the node itself are allowed: the table above tests identity only.
	for _, r := range allowedForNode {
		if d, reason := decision(t, a, nodeUser("n1"), r); d != authorizer.DecisionAllow {
			t.Errorf("node n1 %+v: got (%v, %q), want Allow", r, d, reason)
		}
	}
}

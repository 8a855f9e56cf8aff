package node_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/authfilter/authfilter/authz/node"
)

func secretPod(namespace, name, nodeName, secret string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{
			NodeName:   nodeName,
			Containers: []corev1.Container{{Name: "app", Image: "app"}},
			Volumes: []corev1.Volume{{Name: "creds", VolumeSource: corev1.VolumeSource{
				Secret: &corev1.SecretVolumeSource{SecretName: secret}}}},
		},
	}
}

// ExampleNew feeds the Node authorizer from (fake) API server informers: node n1 may read the
// secret of the pod bound to it, node n2 may not.
func ExampleNew() {
	client := fake.NewClientset(secretPod("shop", "web", "n1", "db-password"))
	a, err := node.New(client, node.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.Start(ctx)
	if !a.WaitForSync(ctx) {
		fmt.Println("not synced")
		return
	}
	for _, n := range []string{"n1", "n2"} {
		attrs := authorizer.AttributesRecord{
			User:            &user.DefaultInfo{Name: "system:node:" + n, Groups: []string{"system:nodes"}},
			Verb:            "get",
			Resource:        "secrets",
			Namespace:       "shop",
			Name:            "db-password",
			ResourceRequest: true,
		}
		d, reason, _ := a.Authorize(ctx, attrs)
		fmt.Printf("%s: %s\n", n, show(d, reason))
	}
	// Output:
	// n1: Allow
	// n2: NoOpinion (no relationship found between node 'n2' and this object)
}

// ExampleIdentify shows who counts as a node.
func ExampleIdentify() {
	for _, u := range []user.Info{
		&user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes"}},
		&user.DefaultInfo{Name: "system:node:n1"},
		&user.DefaultInfo{Name: "alice", Groups: []string{"system:nodes"}},
	} {
		name, ok := node.Identify(u)
		fmt.Printf("%q groups=%v -> node=%q isNode=%v\n", u.GetName(), u.GetGroups(), name, ok)
	}
	// Output:
	// "system:node:n1" groups=[system:nodes] -> node="n1" isNode=true
	// "system:node:n1" groups=[] -> node="" isNode=false
	// "alice" groups=[system:nodes] -> node="" isNode=false
}

// ExampleNewFromGraph authorizes over a graph filled by hand, and shows the pod list rule: a
// node may list pods only with a spec.nodeName field selector naming itself.
func ExampleNewFromGraph() {
	g := node.NewGraph()
	g.AddPod(secretPod("shop", "web", "n1", "db-password"))
	a, err := node.NewFromGraph(g, func() bool { return true }, node.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	n1 := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes"}}
	for _, selector := range []string{"spec.nodeName=n1", "spec.nodeName=n2", ""} {
		attrs := authorizer.AttributesRecord{User: n1, Verb: "list", Resource: "pods", ResourceRequest: true}
		if selector != "" {
			sel, _ := fieldsParse(selector)
			attrs.FieldSelectorRequirements = sel
		}
		d, reason, _ := a.Authorize(context.Background(), attrs)
		fmt.Printf("list pods %q: %s\n", selector, show(d, reason))
	}
	fmt.Println("secret related to n1:", g.Related("n1", node.KindSecret, "shop", "db-password"))
	// Output:
	// list pods "spec.nodeName=n1": Allow
	// list pods "spec.nodeName=n2": NoOpinion (can only list/watch pods with spec.nodeName field selector)
	// list pods "": NoOpinion (can only list/watch pods with spec.nodeName field selector)
	// secret related to n1: true
}

func fieldsParse(s string) (fields.Requirements, error) {
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, err
	}
	return sel.Requirements(), nil
}

func show(d authorizer.Decision, reason string) string {
	switch d {
	case authorizer.DecisionAllow:
		return "Allow"
	case authorizer.DecisionDeny:
		return "Deny (" + reason + ")"
	}
	return "NoOpinion (" + reason + ")"
}

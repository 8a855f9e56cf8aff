package authz_test

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/authfilter/authfilter/authz"
)

// ExampleNewSAR authorizes against a fake API server that lets only the group
// system:nodes read node metrics, and shows that a repeated request is answered from the cache.
func ExampleNewSAR() {
	client := fake.NewClientset()
	reviews := 0
	client.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		reviews++
		sar := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		ra := sar.Spec.ResourceAttributes
		fmt.Printf("review: user=%s verb=%s resource=%s/%s\n", sar.Spec.User, ra.Verb, ra.Resource, ra.Subresource)
		for _, g := range sar.Spec.Groups {
			if g == "system:nodes" {
				sar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "node metrics"}
			}
		}
		return true, sar, nil
	})

	sar, err := authz.NewSAR(client.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	node := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes"}}
	alice := &user.DefaultInfo{Name: "alice"}
	for _, u := range []user.Info{node, node, alice} {
		attrs := authorizer.AttributesRecord{User: u, Verb: "get", Resource: "nodes", Subresource: "metrics", ResourceRequest: true}
		decision, reason, err := sar.Authorize(context.Background(), attrs)
		fmt.Printf("%s: %v %q %v\n", u.GetName(), decision, reason, err)
	}
	fmt.Println("reviews sent:", reviews)
	// Output:
	// review: user=system:node:n1 verb=get resource=nodes/metrics
	// system:node:n1: Allow "node metrics" <nil>
	// system:node:n1: Allow "node metrics" <nil>
	// review: user=alice verb=get resource=nodes/metrics
	// alice: NoOpinion "" <nil>
	// reviews sent: 2
}

// ExampleNewUnion asks authorizers in order: the first Allow or Deny decides.
func ExampleNewUnion() {
	noOpinion := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionNoOpinion, "not my kind of request", nil
	})
	attrs := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Path: "/healthz"}

	for _, list := range [][]authorizer.Authorizer{
		{noOpinion, authz.NewAlwaysAllow()},
		{noOpinion, authz.NewAlwaysDeny(), authz.NewAlwaysAllow()},
		{noOpinion},
	} {
		u, err := authz.NewUnion(list...)
		if err != nil {
			fmt.Println(err)
			return
		}
		decision, reason, err := u.Authorize(context.Background(), attrs)
		fmt.Printf("%v %q %v\n", decision, reason, err)
	}
	_, err := authz.NewUnion()
	fmt.Println(err)
	// Output:
	// Allow "" <nil>
	// Deny "every request is denied (AlwaysDeny)" <nil>
	// NoOpinion "not my kind of request" <nil>
	// authz: union needs at least one authorizer
}

// ExampleNewAlwaysAllow shows the two fixed authorizers.
func ExampleNewAlwaysAllow() {
	attrs := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Path: "/pods"}
	for _, a := range []authorizer.Authorizer{authz.NewAlwaysAllow(), authz.NewAlwaysDeny()} {
		decision, reason, err := a.Authorize(context.Background(), attrs)
		fmt.Printf("%v %q %v\n", decision, reason, err)
	}
	// Output:
	// Allow "" <nil>
	// Deny "every request is denied (AlwaysDeny)" <nil>
}

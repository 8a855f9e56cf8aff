package node_test

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/authfilter/authfilter/authz/node"
)

// A node asks for service account tokens bound to its pods: audiences a pod references pass,
// others go to the authorizer (here one that denies everything; authz.SAR in a real server).
func ExampleRestriction() {
	client := fake.NewClientset(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web", UID: "uid-web"},
		Spec: corev1.PodSpec{NodeName: "node-a", ServiceAccountName: "web", Volumes: []corev1.Volume{{
			Name: "vault-token",
			VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "vault", Path: "token"}},
			}}},
		}}},
	})
	deny := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionNoOpinion, "", nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	r, err := node.NewRestriction(factory, deny, node.RestrictionOptions{})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	r.WaitForSync(ctx)

	nodeA := &user.DefaultInfo{Name: "system:node:node-a", Groups: []string{"system:nodes", "system:authenticated"}}
	for _, audience := range []string{"vault", "https://bank.example"} {
		err := r.Admit(ctx, node.Write{
			User: nodeA, Operation: node.Create, APIVersion: "v1", Resource: "serviceaccounts", Subresource: "token",
			Namespace: "team-a", Name: "web",
			Object: &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
				Audiences:      []string{audience},
				BoundObjectRef: &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: "web", UID: "uid-web"},
			}},
		})
		fmt.Printf("%s: admitted=%v forbidden=%v\n", audience, err == nil, apierrors.IsForbidden(err))
	}
	// Output:
	// vault: admitted=true forbidden=false
	// https://bank.example: admitted=false forbidden=true
}

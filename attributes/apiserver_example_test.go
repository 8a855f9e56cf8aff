package attributes_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/attributes"
)

// The API server preset parses paths and selectors as kube-apiserver does.
func ExampleAPIServer() {
	a := attributes.NewAPIServer()
	node := &user.DefaultInfo{Name: "system:node:node-a", Groups: []string{"system:nodes"}}
	for _, target := range []string{
		"/api/v1/namespaces/team-a/secrets/db-password",
		"/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-a",
		"/api/v1/nodes?fieldSelector=metadata.name%3Dnode-a",
		"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a",
		"/healthz",
	} {
		attrs, err := a.GetAttributes(node, httptest.NewRequest(http.MethodGet, target, nil))
		if err != nil {
			panic(err)
		}
		r := attrs[0]
		if !r.IsResourceRequest() {
			fmt.Printf("%s non-resource %s\n", r.GetVerb(), r.GetPath())
			continue
		}
		sel, _ := r.GetFieldSelector()
		fmt.Printf("%s %s group=%q ns=%q name=%q fields=%v\n", r.GetVerb(), r.GetResource(), r.GetAPIGroup(), r.GetNamespace(), r.GetName(), sel)
	}
	// Output:
	// get secrets group="" ns="team-a" name="db-password" fields=[]
	// watch pods group="" ns="" name="" fields=[{= spec.nodeName node-a}]
	// list nodes group="" ns="" name="node-a" fields=[{= metadata.name node-a}]
	// get leases group="coordination.k8s.io" ns="kube-node-lease" name="node-a" fields=[]
	// get non-resource /healthz
}

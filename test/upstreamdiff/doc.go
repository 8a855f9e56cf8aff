// Package upstreamdiff holds differential tests that run authfilter's parts next to the
// Kubernetes code they reproduce, in process, on the same generated inputs:
//
//   - node_test.go: authz/node's Graph and Authorizer against k8s.io/kubernetes'
//     plugin/pkg/auth/authorizer/node (the API server's Node authorizer) with
//     bootstrappolicy.NodeRules, for random graphs and random requests;
//   - restriction_test.go: authz/node's Restriction against the NodeRestriction admission
//     plugin (plugin/pkg/admission/noderestriction), fed by the same fake clientset;
//   - apiserver_test.go: attributes.APIServer against k8s.io/apiserver's WithRequestInfo and
//     GetAuthorizerAttributes, for random request URLs.
//
// It is a separate module because k8s.io/kubernetes must not enter the library's go.mod:
//
//	cd test/upstreamdiff && go test ./...    # or: make upstreamdiff
package upstreamdiff

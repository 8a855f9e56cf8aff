//go:build e2e

// Package nodediff is the real-cluster differential test of authfilter's Node authorizer
// (authz/node): it creates nodes, pods, secrets, configmaps, claims, volumes, attachments and
// resource slices in a real kube-apiserver v1.37.2 (--authorization-mode=Node,RBAC), runs
// node.New in process against the same API server, generates a few thousand API requests of
// node identities, maps each with attributes.NewAPIServer, and compares the Node authorizer's
// decision with the API server's SubjectAccessReview answer for the same user and attributes.
// See test/e2e/README.md.
package nodediff

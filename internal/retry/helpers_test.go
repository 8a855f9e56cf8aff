package retry

import "k8s.io/apimachinery/pkg/runtime/schema"

func schemaGR() schema.GroupResource {
	return schema.GroupResource{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}
}

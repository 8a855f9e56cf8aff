package authz

import (
	"maps"
	"slices"
	"strconv"

	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/authfilter/authfilter/internal/cache"
)

// keyVersion starts every key, so a change to the layout below can never match old keys.
const keyVersion = "authz.sar/v1"

// reviewKey hashes every field of spec that is sent to the API server, each length-prefixed by
// the Hasher, so two specs that differ in any field (user, UID, groups in order, extra with its
// keys sorted, resource or non-resource, each attribute, each selector requirement) get
// different keys and can never share a cached decision.
func reviewKey(h *cache.Hasher, spec *authorizationv1.SubjectAccessReviewSpec) cache.Key {
	b := h.Begin().String(keyVersion).
		String(spec.User).
		String(spec.UID).
		Strings(spec.Groups)

	keys := slices.Sorted(maps.Keys(spec.Extra))
	b.Strings(keys)
	for _, k := range keys {
		b.Strings(spec.Extra[k])
	}

	if ra := spec.ResourceAttributes; ra != nil {
		b.Bool(true).
			String(ra.Namespace).
			String(ra.Verb).
			String(ra.Group).
			String(ra.Version).
			String(ra.Resource).
			String(ra.Subresource).
			String(ra.Name)
		b.Bool(ra.FieldSelector != nil)
		if fs := ra.FieldSelector; fs != nil {
			b.String(fs.RawSelector).String(strconv.Itoa(len(fs.Requirements)))
			for _, r := range fs.Requirements {
				b.String(r.Key).String(string(r.Operator)).Strings(r.Values)
			}
		}
		b.Bool(ra.LabelSelector != nil)
		if ls := ra.LabelSelector; ls != nil {
			b.String(ls.RawSelector).String(strconv.Itoa(len(ls.Requirements)))
			for _, r := range ls.Requirements {
				b.String(r.Key).String(string(r.Operator)).Strings(r.Values)
			}
		}
	} else {
		b.Bool(false)
	}

	if nra := spec.NonResourceAttributes; nra != nil {
		b.Bool(true).String(nra.Path).String(nra.Verb)
	} else {
		b.Bool(false)
	}
	return b.Sum()
}

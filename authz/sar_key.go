package authz

import (
	"slices"
	"strconv"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/authfilter/authfilter/internal/cache"
	"github.com/authfilter/authfilter/internal/identity"
)

// keyVersion starts every key, so a change to the layout below can never match old keys.
const keyVersion = "authz.sar/v1"

// reviewKey hashes every field of spec that is sent to the API server, each length-prefixed by
// the Hasher, so two specs that differ in any field (user, UID, groups in order, extra with its
// keys sorted, resource or non-resource, each attribute, each selector requirement) get
// different keys and can never share a cached decision.
func reviewKey(h *cache.Hasher, spec *authorizationv1.SubjectAccessReviewSpec) cache.Key {
	b := h.Begin().String(keyVersion)
	writeUser(b, spec.User, spec.UID, spec.Groups, spec.Extra)

	if ra := spec.ResourceAttributes; ra != nil {
		writeResource(b, ra.Namespace, ra.Verb, ra.Group, ra.Version, ra.Resource, ra.Subresource, ra.Name)
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

// attributesKey returns reviewKey(h, spec) for the spec that reviewSpec would build from u and
// the fields f of attributes without field or label selectors, without building it and
// without allocating: the cache-hit path.
func attributesKey(h *cache.Hasher, u user.Info, f *attrFields) cache.Key {
	b := h.Begin().String(keyVersion)
	if iu, ok := u.(*identity.User); ok {
		writeImmutableUser(b, iu)
	} else {
		writeUser(b, u.GetName(), u.GetUID(), u.GetGroups(), u.GetExtra())
	}
	if f.resource {
		writeResource(b, f.namespace, f.verb, f.group, f.version, f.res, f.subresource, f.name)
		b.Bool(false).Bool(false) // no field selector, no label selector
		b.Bool(false)             // no non-resource attributes
	} else {
		b.Bool(false) // no resource attributes
		b.Bool(true).String(f.path).String(f.verb)
	}
	return b.Sum()
}

// hasSelectors reports whether attrs is a resource request with field or label selector
// requirements (parsed or not).
func hasSelectors(attrs authorizer.Attributes) bool {
	if rec, ok := attrs.(*authorizer.AttributesRecord); ok { // read the fields, not copies
		return rec.ResourceRequest && (len(rec.FieldSelectorRequirements) > 0 || len(rec.LabelSelectorRequirements) > 0)
	}
	if !attrs.IsResourceRequest() {
		return false
	}
	fields, _ := attrs.GetFieldSelector()
	labels, _ := attrs.GetLabelSelector()
	return len(fields) > 0 || len(labels) > 0
}

// writeUser adds the user part of a review: name, UID, groups in order, and extra with its keys
// sorted. A nil and an empty extra (or groups) are the same, as they are in the review sent.
func writeUser[V ~[]string](b *cache.KeyBuilder, name, uid string, groups []string, extra map[string]V) {
	b.String(name).String(uid).Strings(groups)
	var buf [8]string // most users have a handful of extra keys: sort them without allocating
	keys := buf[:0]
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.Strings(keys)
	for _, k := range keys {
		b.Strings([]string(extra[k]))
	}
}

// writeImmutableUser adds u as writeUser adds its contents, without copying them (an
// identity.User's extra keys are already sorted).
func writeImmutableUser(b *cache.KeyBuilder, u *identity.User) {
	b.String(u.GetName()).String(u.GetUID()).Strings(u.Groups())
	n := u.ExtraLen()
	b.Count(n)
	for i := range n {
		k, _ := u.Extra(i)
		b.String(k)
	}
	for i := range n {
		_, v := u.Extra(i)
		b.Strings(v)
	}
}

// writeResource adds the resource attributes of a review, and marks them present.
func writeResource(b *cache.KeyBuilder, namespace, verb, group, version, resource, subresource, name string) {
	b.Bool(true).
		String(namespace).
		String(verb).
		String(group).
		String(version).
		String(resource).
		String(subresource).
		String(name)
}

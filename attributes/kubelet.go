package attributes

import (
	"errors"
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// kubeletRule maps the requests under one path prefix to the subresources of the node they are
// authorized against, tried in order.
type kubeletRule struct {
	prefix       string // one or more whole segments, without a trailing slash: "/stats"
	subresources []string
}

// kubeletRules returns the kubelet's table. A path that no rule matches is nodes/proxy.
//
// The fine-grained rules (pods, runningpods, healthz, configz) fall back to proxy, as the kubelet
// does with its KubeletFineGrainedAuthz feature, so clients that were granted nodes/proxy keep
// working. Prefixes match whole segments and are case-sensitive, as the kubelet's mux is:
// "/statsfoo" and "/Stats" are nodes/proxy.
func kubeletRules() []kubeletRule {
	return []kubeletRule{
		{prefix: "/stats", subresources: []string{"stats"}},
		{prefix: "/metrics", subresources: []string{"metrics"}},
		{prefix: "/logs", subresources: []string{"log"}}, // "log" as in pods/log
		{prefix: "/spec", subresources: []string{"spec"}},
		{prefix: "/checkpoint", subresources: []string{"checkpoint"}},
		{prefix: "/pods", subresources: []string{"pods", "proxy"}},
		{prefix: "/runningpods", subresources: []string{"pods", "proxy"}},
		{prefix: "/healthz", subresources: []string{"healthz", "proxy"}},
		{prefix: "/configz", subresources: []string{"configz", "proxy"}},
	}
}

// kubeletTemplate is a kubelet rule with its attributes built once: all but the user, verb
// and path as full records, and all but the user and path as Targets, one list per verb.
type kubeletTemplate struct {
	prefix  string
	attrs   []authorizer.AttributesRecord
	targets [len(resourceVerbs)][]Target
}

// Kubelet is the [Getter] the kubelet uses for its own API: every request is a resource request
// on the node it serves (APIVersion "v1", Resource "nodes", Name the node name, no namespace and
// no API group), with the verb from [ResourceVerb], the path from [CanonicalPath], and
// subresources chosen by path, matched on whole segments:
//
//	/stats, /stats/...              stats
//	/metrics, /metrics/...          metrics
//	/logs, /logs/...                log
//	/spec, /spec/...                spec
//	/checkpoint, /checkpoint/...    checkpoint
//	/pods, /pods/...                pods, then proxy
//	/runningpods, /runningpods/...  pods, then proxy
//	/healthz, /healthz/...          healthz, then proxy
//	/configz, /configz/...          configz, then proxy
//	anything else                   proxy ("/", /exec, /run, /attach, /portForward,
//	                                /containerLogs, /debug, /cri, ...)
//
// A request is allowed when any of its attributes is. So nodes/proxy reaches every path except
// those under /stats, /metrics, /logs, /spec and /checkpoint, which need their own subresource;
// a client granted only "get" on nodes/healthz reaches GET /healthz and the paths under it and
// nothing else; a metrics scraper needs "get" on nodes/metrics and nodes/stats. HEAD is "get".
//
// A Kubelet is immutable after [NewKubelet] and safe for concurrent use.
type Kubelet struct {
	rules []kubeletTemplate
	proxy kubeletTemplate // for paths no rule matches
}

// NewKubelet returns the kubelet's [Getter] for the node named nodeName. An empty node name is an
// error: the attributes would name no node.
func NewKubelet(nodeName string) (*Kubelet, error) {
	if nodeName == "" {
		return nil, errors.New("attributes: kubelet node name is empty")
	}
	k := &Kubelet{proxy: newKubeletTemplate(nodeName, "", []string{"proxy"})}
	for _, rule := range kubeletRules() {
		k.rules = append(k.rules, newKubeletTemplate(nodeName, rule.prefix, rule.subresources))
	}
	return k, nil
}

// newKubeletTemplate returns the template of the rule that maps prefix to the subresources of
// the node.
func newKubeletTemplate(nodeName, prefix string, subresources []string) kubeletTemplate {
	t := kubeletTemplate{prefix: prefix}
	for _, sub := range subresources {
		t.attrs = append(t.attrs, authorizer.AttributesRecord{
			APIVersion:      "v1",
			Resource:        "nodes",
			Subresource:     sub,
			Name:            nodeName,
			ResourceRequest: true,
		})
	}
	for v, verb := range resourceVerbs {
		for _, a := range t.attrs {
			a.Verb = verb
			t.targets[v] = append(t.targets[v], *targetOf(&a))
		}
	}
	return t
}

// GetAttributes returns the attributes of r for u, in the order they should be tried.
//
// A method with no verb returns an error wrapping [ErrMethodNotAllowed] (the method is checked
// first, so "OPTIONS *" is 405); a path that is not canonical returns an error wrapping
// [ErrNonCanonicalPath]. A nil u is carried as is. The returned slice and records are new on
// every call.
func (k *Kubelet) GetAttributes(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
	var buf [2]authorizer.AttributesRecord
	records, err := k.AppendAttributes(buf[:0], u, r)
	if err != nil {
		return nil, err
	}
	out := make([]authorizer.Attributes, len(records))
	for i, a := range records {
		out[i] = a
	}
	return out, nil
}

// AppendAttributes appends the records that GetAttributes returns to dst and returns the
// extended slice, with the same errors (and nothing appended on error). It lets a caller that
// keeps the records in storage of its own avoid allocating them on every request.
func (k *Kubelet) AppendAttributes(dst []authorizer.AttributesRecord, u user.Info, r *http.Request) ([]authorizer.AttributesRecord, error) {
	v, p, t, err := k.match(r)
	if err != nil {
		return dst, err
	}
	for _, a := range t.attrs { // a is a copy: the templates are never written
		a.User, a.Verb, a.Path = u, resourceVerbs[v], p
		dst = append(dst, a)
	}
	return dst, nil
}

// AppendRecords is AppendAttributes in the compact form: the kubelet's attributes never carry
// selectors. The records point to Targets the Kubelet shares with every request of the same
// verb and subresources. It is what authfilter.Filter uses, writing into its per-request
// storage.
func (k *Kubelet) AppendRecords(dst []Record, u user.Info, r *http.Request) ([]Record, error) {
	v, p, t, err := k.match(r)
	if err != nil {
		return dst, err
	}
	targets := t.targets[v]
	for i := range targets {
		dst = append(dst, Record{User: u, Path: p, Target: &targets[i]})
	}
	return dst, nil
}

// match returns the index in resourceVerbs of r's verb, r's canonical path and the template of
// its path.
func (k *Kubelet) match(r *http.Request) (verb int, path string, t *kubeletTemplate, err error) {
	if r == nil {
		return 0, "", nil, nonCanonical("", "request is nil")
	}
	if verb, err = resourceVerbIndex(r.Method); err != nil {
		return 0, "", nil, err
	}
	if path, err = CanonicalPath(r); err != nil {
		return 0, "", nil, err
	}
	return verb, path, k.templateFor(path), nil
}

// templateFor returns the template of the first rule whose prefix is p or a whole segment
// prefix of p, or the proxy template.
func (k *Kubelet) templateFor(p string) *kubeletTemplate {
	for i := range k.rules {
		if underPrefix(p, k.rules[i].prefix) {
			return &k.rules[i]
		}
	}
	return &k.proxy
}

// underPrefix reports whether p is prefix or lies under it: "/stats" and "/stats/summary" are
// under "/stats", "/statsfoo" is not.
func underPrefix(p, prefix string) bool {
	return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '/')
}

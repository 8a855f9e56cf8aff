package node

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"

	"github.com/go-logr/logr"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ReasonStopped is the reason of the NoOpinion every node request gets once the informers
// started by [Authorizer.Start] have stopped (its context ended): the graph no longer follows
// the cluster, so it is not trusted.
const ReasonStopped = "node authorizer: informers stopped, graph no longer current"

// ReasonNotSynced is the reason of the NoOpinion every node request gets until the graph has
// synced.
const ReasonNotSynced = "node authorizer: graph not synced"

// Options tune an [Authorizer] and a [Populator]. The zero value is valid and behaves like the
// Kubernetes v1.37 API server with its default feature gates.
type Options struct {
	// Logger receives one V(4) line for each node request that is not allowed (node, verb,
	// resource, namespace, name, reason), and V(2) lines about unexpected informer objects.
	// Nothing logged contains a credential. The zero value discards everything.
	Logger logr.Logger

	// DisableResourceSlices stops watching resource.k8s.io/v1 ResourceSlices, for API servers
	// that do not serve them. Requests for one slice (get, update, patch, delete) then find no
	// relationship; create and list/watch/deletecollection with a spec.nodeName=<node> field
	// selector stay allowed, as upstream. Default false: slices are watched.
	DisableResourceSlices bool

	// DisablePodCertificateRequests stops watching certificates.k8s.io/v1
	// PodCertificateRequests and answers NoOpinion to every request about them, like an API
	// server with the PodCertificateRequest feature gate off. Default false: handled, as with the
	// v1.37 default (gate on).
	DisablePodCertificateRequests bool
}

// Authorizer is the API server's Node authorizer as a library part: it authorizes requests of
// nodes (see [Identify]) with the rules of Kubernetes v1.37 and a [Graph] of which objects are
// related to which node, and has no opinion about anyone else. Create it with [New],
// [NewFromFactory] or [NewFromGraph]. It is safe for concurrent use.
//
// It never returns DecisionDeny: what it does not allow is NoOpinion with a reason, so that a
// union can let another authorizer (RBAC through a SubjectAccessReview, say) decide, which is
// --authorization-mode=Node,RBAC. Until the graph has synced every node request is NoOpinion
// with [ReasonNotSynced] (fail closed, even for requests the static rules would allow).
type Authorizer struct {
	graph   *Graph
	synced  func() bool
	factory informers.SharedInformerFactory // nil for NewFromGraph
	logger  logr.Logger
	pcr     bool        // PodCertificateRequest rules enabled
	stopped atomic.Bool // the informers Start started have stopped
}

var _ authorizer.Authorizer = (*Authorizer)(nil)

// New returns an Authorizer fed by its own informers on client (pods bound to a node only, kept
// in memory trimmed to the fields the graph reads). Call [Authorizer.Start] to start them;
// cancelling the context given to Start stops them. See [NewPopulator] for the RBAC rules the
// identity behind client needs.
func New(client kubernetes.Interface, opts Options) (*Authorizer, error) {
	if client == nil || isNilInterface(client) {
		return nil, errors.New("node: New needs a client")
	}
	return NewFromFactory(newFactory(client), opts)
}

// NewFromFactory returns an Authorizer fed by informers of the caller's factory. The caller may
// start the factory itself or call [Authorizer.Start], which starts it (starting a factory twice
// is harmless).
func NewFromFactory(factory informers.SharedInformerFactory, opts Options) (*Authorizer, error) {
	g := NewGraph()
	p, err := NewPopulator(g, factory, opts)
	if err != nil {
		return nil, err
	}
	a := newAuthorizer(g, p.HasSynced, opts)
	a.factory = factory
	return a, nil
}

// NewFromGraph returns an Authorizer over a graph the caller keeps current. hasSynced tells
// whether the graph is complete (a [Populator]'s HasSynced, or a function returning true for a
// graph filled by hand); a nil graph or hasSynced is an error.
func NewFromGraph(graph *Graph, hasSynced func() bool, opts Options) (*Authorizer, error) {
	if graph == nil {
		return nil, errors.New("node: NewFromGraph needs a graph")
	}
	if hasSynced == nil {
		return nil, errors.New("node: NewFromGraph needs a hasSynced function")
	}
	return newAuthorizer(graph, hasSynced, opts), nil
}

func newAuthorizer(g *Graph, synced func() bool, opts Options) *Authorizer {
	return &Authorizer{graph: g, synced: synced, logger: opts.Logger, pcr: !opts.DisablePodCertificateRequests}
}

// Start starts the informers (for New and NewFromFactory; nothing for NewFromGraph) and returns
// at once. They run until ctx is done; from then on the graph no longer changes, so every node
// request is NoOpinion with [ReasonStopped] (fail closed) and HasSynced is false. Give Start
// the context of the server's whole life, not one that ends after the first sync. (A caller
// that starts the factory itself owns its lifetime: the graph is then as current as its
// informers.)
func (a *Authorizer) Start(ctx context.Context) {
	if a.factory != nil {
		a.factory.Start(ctx.Done())
		context.AfterFunc(ctx, func() { a.stopped.Store(true) })
	}
}

// HasSynced reports whether the graph is complete and still followed by running informers.
// Until it is, every node request is NoOpinion with [ReasonNotSynced]; after Start's context
// has ended, with [ReasonStopped].
func (a *Authorizer) HasSynced() bool { return !a.stopped.Load() && a.synced() }

// WaitForSync blocks until the graph has synced or ctx is done, and reports whether it synced.
func (a *Authorizer) WaitForSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), a.HasSynced)
}

// Graph returns the graph the authorizer reads.
func (a *Authorizer) Graph() *Graph { return a.graph }

// Authorize decides a request. Requests of users that are not nodes ([Identify]) are
// NoOpinion with an empty reason. A node's request is Allow or NoOpinion with a reason, as the
// v1.37 Node authorizer decides it (see the package documentation for the rules), and
// NoOpinion with [ReasonNotSynced] until the graph has synced. Nil attributes are NoOpinion
// with an error. It never returns DecisionDeny.
func (a *Authorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	if attrs == nil || isNilInterface(attrs) {
		return authorizer.DecisionNoOpinion, "", errors.New("node authorizer: no request attributes")
	}
	nodeName, isNode := Identify(attrs.GetUser())
	if !isNode {
		return authorizer.DecisionNoOpinion, "", nil
	}
	if a.stopped.Load() {
		return authorizer.DecisionNoOpinion, ReasonStopped, nil
	}
	if !a.synced() {
		return authorizer.DecisionNoOpinion, ReasonNotSynced, nil
	}
	d, reason := a.decide(nodeName, attrs)
	if d != authorizer.DecisionAllow {
		if log := a.logger.V(4); log.Enabled() {
			log.Info("node authorizer: no opinion", "node", nodeName, "verb", attrs.GetVerb(),
				"apiGroup", attrs.GetAPIGroup(), "resource", attrs.GetResource(),
				"subresource", attrs.GetSubresource(), "namespace", attrs.GetNamespace(),
				"name", attrs.GetName(), "path", attrs.GetPath(), "reason", reason)
		}
	}
	return d, reason, nil
}

// ConditionsAwareAuthorize returns the Authorize decision as an unconditional decision.
func (a *Authorizer) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions is not supported: it returns DecisionDeny and
// authorizer.ErrorConditionEvaluationNotSupported.
func (*Authorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// isNilInterface reports whether v holds a nil pointer, map, slice, func or channel.
func isNilInterface(v any) bool {
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

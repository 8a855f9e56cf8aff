package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	csitrans "k8s.io/csi-translation-lib"

	"github.com/authfilter/authfilter/internal/identity"
)

// Operation is the kind of a write, as admission sees it.
type Operation string

// The operations of a [Write]. A PATCH is an Update of the patched object, a DELETE of a
// collection is one Delete per object, as kube-apiserver runs admission.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
	Delete Operation = "DELETE"
)

// Write is one write request, described the way kube-apiserver hands it to admission
// plugins. Objects are the typed objects of k8s.io/api (for example *corev1.Pod), never
// internal types.
type Write struct {
	User      user.Info
	Operation Operation
	// APIGroup, APIVersion, Resource and Subresource name the endpoint written to, for
	// example "", "v1", "pods", "status".
	APIGroup, APIVersion, Resource, Subresource string
	// Namespace and Name come from the request path; Name is empty on create.
	Namespace, Name string
	// Object is the new object (create, update) or the body of the request (the Eviction of
	// pods/eviction, the TokenRequest of serviceaccounts/token); nil on delete.
	Object runtime.Object
	// OldObject is the stored object (update, delete), nil on create.
	OldObject runtime.Object
}

// RestrictionOptions tune a [Restriction]. The zero value behaves like the NodeRestriction
// admission plugin of a Kubernetes v1.37 API server with its default feature gates.
type RestrictionOptions struct {
	// APIAudiences are the API server's --api-audiences (by default its
	// --service-account-issuer). A projected serviceAccountToken volume source without an
	// audience gets a token for these, so a node may also request a token for any one of them,
	// explicitly, for a pod with such a source; the API server only accepts the empty audience
	// then. Default none: exactly the API server's behaviour.
	APIAudiences []string

	// Logger receives a V(4) line for every write that is refused (node, operation, resource,
	// namespace, name, reason). Nothing logged contains a credential. The zero value discards
	// everything.
	Logger logr.Logger

	// DisablePodCertificateRequests refuses every PodCertificateRequest a node writes, and
	// does not watch service accounts, like an API server with the PodCertificateRequest
	// feature gate off. Default false: checked as with the v1.37 default (gate on).
	DisablePodCertificateRequests bool
}

// Restriction is the NodeRestriction admission plugin of kube-apiserver as a library part: the
// caller invokes [Restriction.Admit] on each write that a node's request makes (after
// authorization, for example by the Node [Authorizer], allowed it), and refuses the write on
// error. It limits a node to its own Node object (without changing its taints, owner
// references, configSource or node-restriction.kubernetes.io/ labels), to mirror pods bound to
// itself and to the pods bound to it, and to tokens for the service accounts of its pods, for
// audiences those pods reference. See [Restriction.Admit] for every rule.
//
// It reads pods, nodes, persistent volumes and claims, CSI drivers and (for
// PodCertificateRequests) service accounts through listers of the caller's informer factory;
// until they have synced every node write is refused. Create it with [NewRestriction] (the zero
// value refuses every node write). It is safe for concurrent use.
type Restriction struct {
	audienceAuthz authorizer.Authorizer
	apiAudiences  []string
	logger        logr.Logger
	pcr           bool

	pods       corelisters.PodLister
	nodes      corelisters.NodeLister
	pvcs       corelisters.PersistentVolumeClaimLister
	pvs        corelisters.PersistentVolumeLister
	sas        corelisters.ServiceAccountLister // nil when PodCertificateRequests are disabled
	csiDrivers storagelisters.CSIDriverLister
	translator csitrans.CSITranslator
	synced     []cache.InformerSynced
}

// NewRestriction returns a Restriction reading from listers of factory, which it registers
// with the factory; the caller starts the factory afterwards (factory.Start). authz answers
// the checks that need one: a token for an audience no pod of the node references
// (verb "request-serviceaccounts-token-audience") and a pod certificate for a signer the pod
// does not mount (verb "request-serviceaccounts-podcertificate-signer");
// [github.com/authfilter/authfilter/authz.SAR] asks the API server's RBAC. A nil factory or
// authz is an error.
//
// The identity behind the factory's client needs list and watch of pods, nodes,
// persistentvolumes, persistentvolumeclaims, storage.k8s.io csidrivers and (unless disabled)
// serviceaccounts. The listers keep whole objects; a factory shared with [NewFromFactory]
// shares the pod and persistent volume informers with the Node authorizer.
func NewRestriction(factory informers.SharedInformerFactory, authz authorizer.Authorizer, opts RestrictionOptions) (*Restriction, error) {
	if factory == nil || isNilInterface(factory) {
		return nil, errors.New("node: NewRestriction needs an informer factory")
	}
	if authz == nil || isNilInterface(authz) {
		return nil, errors.New("node: NewRestriction needs an authorizer for audiences and signers")
	}
	r := &Restriction{
		audienceAuthz: authz,
		apiAudiences:  slices.Clone(opts.APIAudiences),
		logger:        opts.Logger,
		pcr:           !opts.DisablePodCertificateRequests,
		pods:          factory.Core().V1().Pods().Lister(),
		nodes:         factory.Core().V1().Nodes().Lister(),
		pvcs:          factory.Core().V1().PersistentVolumeClaims().Lister(),
		pvs:           factory.Core().V1().PersistentVolumes().Lister(),
		csiDrivers:    factory.Storage().V1().CSIDrivers().Lister(),
		translator:    csitrans.New(),
	}
	r.synced = []cache.InformerSynced{
		factory.Core().V1().Pods().Informer().HasSynced,
		factory.Core().V1().Nodes().Informer().HasSynced,
		factory.Core().V1().PersistentVolumeClaims().Informer().HasSynced,
		factory.Core().V1().PersistentVolumes().Informer().HasSynced,
		factory.Storage().V1().CSIDrivers().Informer().HasSynced,
	}
	if r.pcr {
		r.sas = factory.Core().V1().ServiceAccounts().Lister()
		r.synced = append(r.synced, factory.Core().V1().ServiceAccounts().Informer().HasSynced)
	}
	return r, nil
}

// HasSynced reports whether every lister has synced. Until then every node write is refused.
// It is false for the zero value, which therefore refuses every node write.
func (r *Restriction) HasSynced() bool {
	if len(r.synced) == 0 {
		return false
	}
	for _, s := range r.synced {
		if !s() {
			return false
		}
	}
	return true
}

// WaitForSync blocks until the listers have synced or ctx is done, and reports whether they
// synced.
func (r *Restriction) WaitForSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), r.synced...)
}

// Admit returns nil when the write may proceed and an error when it must be refused: a
// Forbidden *apierrors.StatusError (apierrors.IsForbidden) for a refused write, the listers'
// NotFound error when an object the check needs does not exist (a pod being deleted, say), or
// another error (an authorizer failure, an audience that cannot be checked). Writes of users
// that are not nodes ([Identify]) are never restricted; a user "system:node:" in group
// system:nodes, whose node cannot be told, is refused everything. Writes of nodes are refused
// until the listers have synced, and unknown operations and unexpected object types are
// refused.
//
// The rules, for a node n (those of the v1.37 NodeRestriction admission plugin):
//
//   - pods: create only of mirror pods (annotated kubernetes.io/config.mirror) bound to n,
//     with exactly one owner reference, the controller, to n's Node object (apiVersion v1,
//     its current UID, blockOwnerDeletion unset or false), and referencing no API object
//     (service account, secrets, configmaps, claims, CSI, projected tokens...); delete only
//     of pods bound to n. pods/status: update only, of pods bound to n, without changing
//     labels or the resource claim statuses. pods/eviction: create only, for pods bound to
//     n. Any other subresource is refused.
//   - nodes (and nodes/status): only the Node named n; a create may not set
//     spec.configSource; an update may not set a new configSource nor change taints or owner
//     references; neither may add, remove or change labels under node-restriction.kubernetes.io/
//     (or a subdomain of it), nor kubernetes.io/ and k8s.io/ labels (and their subdomains)
//     other than those the kubelet sets itself (k8s.io/kubelet/pkg/apis.IsKubeletLabel).
//   - persistentvolumeclaims: only update of the status subresource, changing nothing but
//     status.capacity, status.conditions, status.allocatedResources and
//     status.allocatedResourceStatuses.
//   - serviceaccounts/token: create only with a TokenRequest bound to a pod (apiVersion v1,
//     kind Pod, its name and UID) that exists with that UID and is bound to n, for at most one
//     audience, which that pod must reference (see below) or authz must allow.
//   - leases: in kube-node-lease, named n. csinodes: named n; csinodes/status is refused
//     (CSIVolumeHealth is off by default). resourceslices: create and delete only of slices
//     whose spec.nodeName is n. certificatesigningrequests: a create for the signers
//     kubernetes.io/kubelet-serving and kubernetes.io/kube-apiserver-client-kubelet must hold a
//     request with the common name system:node:n.
//   - podcertificaterequests: create only, for a pod bound to n (names and UIDs of the node,
//     the pod and its service account must match), not a mirror pod, for a signer the pod
//     mounts in a podCertificate projected source or that authz allows.
//
// A pod references an audience (the empty audience standing for the API server's own) through
// a projected serviceAccountToken source with that audience, or through the spec.tokenRequests
// of the CSI driver of one of its volumes: an inline csi volume, an in-tree volume that CSI
// migration translates to a driver, or a persistentVolumeClaim or generic ephemeral volume
// whose bound PersistentVolume is CSI or translates to one. When no reference is found but a
// lookup along the way failed (a claim, volume or driver that is not in the listers), the
// write is refused without asking authz, as kube-apiserver does. Otherwise authz is asked
// with the node as user, verb "request-serviceaccounts-token-audience", the API group and
// version of the write, resource = the audience, namespace and name of the service account;
// only Allow admits (RBAC's resources: ["*"] allows any audience).
func (r *Restriction) Admit(ctx context.Context, w Write) error {
	nodeName, isNode, known := restrictedNode(w.User)
	if !isNode {
		return nil
	}
	err := r.admitNode(ctx, nodeName, known, &w)
	if err != nil {
		if log := r.logger.V(4); log.Enabled() {
			log.Info("node restriction: write refused", "node", nodeName, "operation", w.Operation,
				"apiGroup", w.APIGroup, "resource", w.Resource, "subresource", w.Subresource,
				"namespace", w.Namespace, "name", w.Name, "reason", err.Error())
		}
	}
	return err
}

// restrictedNode tells whether u is restricted as a node: any user named system:node:* in
// group system:nodes, known false when the node name is empty.
func restrictedNode(u user.Info) (nodeName string, isNode, known bool) {
	if u == nil || !strings.HasPrefix(u.GetName(), NodeUserPrefix) || !identity.InGroup(u, user.NodesGroup) {
		return "", false, false
	}
	nodeName, known = Identify(u)
	return nodeName, true, known
}

func (r *Restriction) admitNode(ctx context.Context, nodeName string, known bool, w *Write) error {
	if !known {
		return forbidden(w, fmt.Errorf("could not determine node from user %q", w.User.GetName()))
	}
	switch w.Operation {
	case Create, Update, Delete:
	default:
		return forbidden(w, fmt.Errorf("unexpected operation %q", w.Operation))
	}
	if !r.HasSynced() {
		return forbidden(w, errors.New("not yet ready to handle request"))
	}
	switch (groupResource{w.APIGroup, w.Resource}) {
	case groupResource{"", "pods"}:
		switch w.Subresource {
		case "":
			return r.admitPod(nodeName, w)
		case "status":
			return admitPodStatus(nodeName, w)
		case "eviction":
			return r.admitPodEviction(nodeName, w)
		}
		return forbidden(w, fmt.Errorf("unexpected pod subresource %q, only 'status' and 'eviction' are allowed", w.Subresource))
	case groupResource{"", "nodes"}:
		return admitNodeObject(nodeName, w)
	case groupResource{"", "persistentvolumeclaims"}:
		if w.Subresource != "status" {
			return forbidden(w, errors.New("may only update PVC status"))
		}
		return admitPVCStatus(nodeName, w)
	case groupResource{"", "serviceaccounts"}:
		return r.admitServiceAccount(ctx, nodeName, w)
	case groupResource{"certificates.k8s.io", "podcertificaterequests"}:
		return r.admitPodCertificateRequest(ctx, nodeName, w)
	case groupResource{"coordination.k8s.io", "leases"}:
		return admitLease(nodeName, w)
	case groupResource{"storage.k8s.io", "csinodes"}:
		return admitCSINode(nodeName, w)
	case groupResource{"resource.k8s.io", "resourceslices"}:
		return admitResourceSlice(nodeName, w)
	case groupResource{"certificates.k8s.io", "certificatesigningrequests"}:
		return admitCSR(nodeName, w)
	}
	return nil
}

// forbidden is admission.NewForbidden of k8s.io/apiserver: a Forbidden status naming the
// resource and the object (from the path, else the new object's name or generateName).
func forbidden(w *Write, err error) error {
	if apierrors.IsForbidden(err) {
		return err
	}
	name := w.Name
	if name == "" {
		name = "Unknown"
		if w.Object != nil && !isNilInterface(w.Object) {
			if acc, aerr := meta.Accessor(w.Object); aerr != nil {
				name = "Unknown/errorGettingName"
			} else if acc.GetName() != "" {
				name = acc.GetName()
			} else if acc.GetGenerateName() != "" {
				name = acc.GetGenerateName()
			}
		}
	}
	return apierrors.NewForbidden(schema.GroupResource{Group: w.APIGroup, Resource: w.Resource}, name, err)
}

// unexpectedType is the error for an object of the wrong type.
func unexpectedType(obj runtime.Object) error {
	return fmt.Errorf("unexpected type %T", obj)
}

// lookupError is how upstream returns a lister error: NotFound as is, anything else Forbidden.
func lookupError(w *Write, err error) error {
	if apierrors.IsNotFound(err) {
		return err
	}
	return forbidden(w, err)
}

package node

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	coordinationv1beta1 "k8s.io/api/coordination/v1beta1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// admitPVCStatus allows a node to update, in a claim's status, only the capacity, the
// conditions and the allocated resources and their statuses.
func admitPVCStatus(nodeName string, w *Write) error {
	if w.Operation != Update {
		return forbidden(w, fmt.Errorf("unexpected operation %q", w.Operation))
	}
	oldPVC, ok := w.OldObject.(*corev1.PersistentVolumeClaim)
	if !ok || oldPVC == nil {
		return forbidden(w, unexpectedType(w.OldObject))
	}
	newPVC, ok := w.Object.(*corev1.PersistentVolumeClaim)
	if !ok || newPVC == nil {
		return forbidden(w, unexpectedType(w.Object))
	}
	oldPVC, newPVC = oldPVC.DeepCopy(), newPVC.DeepCopy()
	for _, c := range []*corev1.PersistentVolumeClaim{oldPVC, newPVC} {
		c.ResourceVersion = "" // an unconditional update leaves it empty
		c.ManagedFields = nil
		c.Status.Capacity = nil
		c.Status.Conditions = nil
		c.Status.AllocatedResourceStatuses = nil
		c.Status.AllocatedResources = nil
	}
	if !equality.Semantic.DeepEqual(oldPVC, newPVC) {
		return forbidden(w, fmt.Errorf("node %q is not allowed to update fields other than status.quantity and status.conditions", nodeName))
	}
	return nil
}

// admitLease allows a node only its own lease in kube-node-lease.
func admitLease(nodeName string, w *Write) error {
	if w.Namespace != nodeLeaseNamespace {
		return forbidden(w, fmt.Errorf("can only access leases in the %q system namespace", nodeLeaseNamespace))
	}
	name := w.Name
	if w.Operation == Create { // the path has no name: use the new object's
		switch l := w.Object.(type) {
		case *coordinationv1.Lease:
			if l == nil {
				return forbidden(w, unexpectedType(w.Object))
			}
			name = l.Name
		case *coordinationv1beta1.Lease:
			if l == nil {
				return forbidden(w, unexpectedType(w.Object))
			}
			name = l.Name
		default:
			return forbidden(w, unexpectedType(w.Object))
		}
	}
	if name != nodeName {
		return forbidden(w, errors.New("can only access node lease with the same name as the requesting node"))
	}
	return nil
}

// admitCSINode allows a node only its own CSINode, and not its status (CSIVolumeHealth is off
// by default in v1.37).
func admitCSINode(nodeName string, w *Write) error {
	name := w.Name
	if w.Operation == Create {
		n, ok := w.Object.(*storagev1.CSINode)
		if !ok || n == nil {
			return forbidden(w, errors.New("unable to access the object name"))
		}
		name = n.Name
	}
	if name != nodeName {
		return forbidden(w, errors.New("can only access CSINode with the same name as the requesting node"))
	}
	if w.Subresource == "status" {
		return forbidden(w, errors.New("CSIVolumeHealth feature gate is disabled"))
	}
	return nil
}

// admitResourceSlice allows a node to create and delete only slices of its own.
func admitResourceSlice(nodeName string, w *Write) error {
	var obj any
	var verb string
	switch w.Operation {
	case Create:
		obj, verb = w.Object, "create"
	case Delete:
		obj, verb = w.OldObject, "delete"
	default:
		return nil // the Node authorizer checks the other verbs
	}
	slice, ok := obj.(*resourcev1.ResourceSlice)
	if !ok || slice == nil {
		return forbidden(w, fmt.Errorf("unexpected type %T", obj))
	}
	if slice.Spec.NodeName == nil || *slice.Spec.NodeName != nodeName {
		return forbidden(w, fmt.Errorf("can only %s ResourceSlice with the same NodeName as the requesting node", verb))
	}
	return nil
}

// admitCSR requires node client and serving certificate requests to name the node.
func admitCSR(nodeName string, w *Write) error {
	if w.Operation != Create {
		return nil
	}
	csr, ok := w.Object.(*certificatesv1.CertificateSigningRequest)
	if !ok || csr == nil {
		return forbidden(w, unexpectedType(w.Object))
	}
	if csr.Spec.SignerName != certificatesv1.KubeletServingSignerName &&
		csr.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName {
		return nil
	}
	block, _ := pem.Decode(csr.Spec.Request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return forbidden(w, errors.New("unable to parse csr: PEM block type must be CERTIFICATE REQUEST"))
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return forbidden(w, fmt.Errorf("unable to parse csr: %w", err))
	}
	if req.Subject.CommonName != NodeUserPrefix+nodeName {
		return forbidden(w, fmt.Errorf("can only create a node CSR with CN=system:node:%s", nodeName))
	}
	return nil
}

// admitPodCertificateRequest allows a node to request certificates only for pods bound to
// itself, for signers the pods mount or the authorizer allows. Mismatched UIDs may be informer
// lag and are reported as errors that are not Forbidden, as upstream does.
func (r *Restriction) admitPodCertificateRequest(ctx context.Context, nodeName string, w *Write) error {
	if !r.pcr {
		return forbidden(w, errors.New("PodCertificateRequest feature gate is disabled"))
	}
	if w.Operation != Create {
		return forbidden(w, fmt.Errorf("unexpected operation %v", w.Operation))
	}
	if w.Subresource != "" {
		return forbidden(w, fmt.Errorf("unexpected subresource %v", w.Subresource))
	}
	req, ok := w.Object.(*certificatesv1.PodCertificateRequest)
	if !ok || req == nil {
		return forbidden(w, unexpectedType(w.Object))
	}
	ns, spec := w.Namespace, &req.Spec
	podRef := ns + "/" + spec.PodName
	if string(spec.NodeName) != nodeName {
		return forbidden(w, fmt.Errorf("PodCertificateRequest.Spec.NodeName=%q, which is not the requesting node %q", spec.NodeName, nodeName))
	}
	node, err := r.nodes.Get(nodeName)
	if err != nil {
		return lagOrForbidden(w, err, fmt.Sprintf("while retrieving node %q named in the PodCertificateRequest", nodeName))
	}
	if node.UID != spec.NodeUID {
		return fmt.Errorf("PodCertificateRequest for pod %q names node UID %q, inconsistent with the running node (%q)", podRef, spec.NodeUID, node.UID)
	}
	pod, err := r.pods.Pods(ns).Get(spec.PodName)
	if err != nil {
		return lagOrForbidden(w, err, fmt.Sprintf("while retrieving pod %q named in the PodCertificateRequest", podRef))
	}
	if spec.PodUID != pod.UID {
		return fmt.Errorf("PodCertificateRequest for pod %q contains pod UID (%q) which differs from running pod %q", podRef, spec.PodUID, string(pod.UID))
	}
	if pod.Spec.NodeName != nodeName {
		return forbidden(w, fmt.Errorf("pod %q is not running on node %q named in the PodCertificateRequest", podRef, nodeName))
	}
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return forbidden(w, fmt.Errorf("pod %q is a mirror pod", podRef))
	}
	if spec.ServiceAccountName != pod.Spec.ServiceAccountName {
		return forbidden(w, fmt.Errorf("PodCertificateRequest for pod %q contains serviceAccountName (%q) that differs from running pod (%q)", podRef, spec.ServiceAccountName, pod.Spec.ServiceAccountName))
	}
	sa, err := r.sas.ServiceAccounts(ns).Get(spec.ServiceAccountName)
	if err != nil {
		return lagOrForbidden(w, err, fmt.Sprintf("while retrieving service account %q named in the PodCertificateRequest", ns+"/"+spec.ServiceAccountName))
	}
	if spec.ServiceAccountUID != sa.UID {
		return fmt.Errorf("PodCertificateRequest for pod %q names service account UID %q, which differs from the running service account (%q)", podRef, spec.ServiceAccountUID, sa.UID)
	}
	if podMountsSigner(pod, spec.SignerName) {
		return nil
	}
	d, _, err := r.audienceAuthz.Authorize(ctx, authorizer.AttributesRecord{
		User:            w.User,
		Verb:            VerbPodCertificateSigner,
		APIGroup:        w.APIGroup,
		APIVersion:      w.APIVersion,
		Resource:        strings.ReplaceAll(spec.SignerName, "/", ":"), // RBAC resources hold no "/"
		Namespace:       ns,
		Name:            spec.ServiceAccountName,
		ResourceRequest: true,
	})
	switch {
	case d == authorizer.DecisionAllow:
		return nil
	case err != nil:
		return forbidden(w, fmt.Errorf("error authorizing %s to request podcertificaterequests for signer %q: %w", w.User.GetName(), spec.SignerName, err))
	}
	return forbidden(w, fmt.Errorf("pod %q does not mount a podCertificate projected volume for signer %q", podRef, spec.SignerName))
}

// lagOrForbidden is upstream's handling of a failed lookup for a PodCertificateRequest: not
// found may be informer lag (a plain error), anything else is Forbidden.
func lagOrForbidden(w *Write, err error, what string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return forbidden(w, fmt.Errorf("%s: %w", what, err))
}

func podMountsSigner(pod *corev1.Pod, signer string) bool {
	for i := range pod.Spec.Volumes {
		if p := pod.Spec.Volumes[i].Projected; p != nil {
			for j := range p.Sources {
				if c := p.Sources[j].PodCertificate; c != nil && c.SignerName == signer {
					return true
				}
			}
		}
	}
	return false
}

package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// The verbs of the authorizer checks a Restriction makes when a pod does not reference what a
// node asks for.
const (
	// VerbTokenAudience is checked with the audience as resource and the service account as
	// name when a node asks for a token for an audience its pod does not reference.
	VerbTokenAudience = "request-serviceaccounts-token-audience"
	// VerbPodCertificateSigner is checked with the signer name ("/" replaced by ":") as
	// resource and the service account as name when a node asks for a pod certificate from a
	// signer its pod does not mount.
	VerbPodCertificateSigner = "request-serviceaccounts-podcertificate-signer"
)

// admitServiceAccount allows a node to create tokens only bound to pods bound to itself, for
// audiences those pods reference or the authorizer allows.
func (r *Restriction) admitServiceAccount(ctx context.Context, nodeName string, w *Write) error {
	if w.Operation != Create || w.Subresource != "token" {
		return nil
	}
	tr, ok := w.Object.(*authenticationv1.TokenRequest)
	if !ok || tr == nil {
		return forbidden(w, unexpectedType(w.Object))
	}
	ref := tr.Spec.BoundObjectRef
	if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Pod" || ref.Name == "" {
		return forbidden(w, errors.New("node requested token not bound to a pod"))
	}
	if ref.UID == "" {
		return forbidden(w, errors.New("node requested token with a pod binding without a uid"))
	}
	pod, err := r.pods.Pods(w.Namespace).Get(ref.Name)
	if err != nil {
		return lookupError(w, err)
	}
	if ref.UID != pod.UID {
		return forbidden(w, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	if pod.Spec.NodeName != nodeName {
		return forbidden(w, errors.New("node requested token bound to a pod scheduled on a different node"))
	}
	if err := r.checkAudience(ctx, tr, pod, w); err != nil {
		return forbidden(w, err)
	}
	return nil
}

// checkAudience allows at most one audience, which the pod must reference or the authorizer
// allow.
func (r *Restriction) checkAudience(ctx context.Context, tr *authenticationv1.TokenRequest, pod *corev1.Pod, w *Write) error {
	var audience string
	switch len(tr.Spec.Audiences) {
	case 0:
	case 1:
		audience = tr.Spec.Audiences[0]
	default:
		return errors.New("node may only request 0 or 1 audiences")
	}
	found, err := r.podReferencesAudience(ctx, pod, audience)
	if err != nil {
		return fmt.Errorf("error validating audience %q: %w", audience, err)
	}
	if found {
		return nil
	}
	d, _, err := r.audienceAuthz.Authorize(ctx, authorizer.AttributesRecord{
		User:            w.User,
		Verb:            VerbTokenAudience,
		APIGroup:        w.APIGroup,
		APIVersion:      w.APIVersion,
		Resource:        audience,
		Namespace:       w.Namespace,
		Name:            w.Name, // the service account
		ResourceRequest: true,
	})
	// As kube-apiserver: an authorizer may allow despite an evaluation error.
	if d == authorizer.DecisionAllow {
		return nil
	}
	if err != nil {
		return fmt.Errorf("error authorizing %s to request tokens for audience %q: %w", w.User.GetName(), audience, err)
	}
	return fmt.Errorf("%s is not authorized to request tokens for audience %q", w.User.GetName(), audience)
}

// podReferencesAudience reports whether the pod references the audience through a projected
// serviceAccountToken source or the token requests of the CSI driver of one of its volumes.
// Lookup errors are returned only when no volume references the audience.
func (r *Restriction) podReferencesAudience(ctx context.Context, pod *corev1.Pod, audience string) (bool, error) {
	var errs []error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if t := src.ServiceAccountToken; t != nil && r.audienceMatches(t.Audience, audience) {
					return true, nil
				}
			}
		}
		driver, err := r.volumeCSIDriver(ctx, pod, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if driver == "" {
			continue
		}
		has, err := r.driverHasAudience(driver, audience)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if has {
			return true, nil
		}
	}
	return false, errors.Join(errs...)
}

// audienceMatches reports whether a projected source's audience covers the requested one: the
// same string, or a requested API server audience for a source without an audience (see
// RestrictionOptions.APIAudiences).
func (r *Restriction) audienceMatches(source, requested string) bool {
	return source == requested || (source == "" && slices.Contains(r.apiAudiences, requested))
}

// volumeCSIDriver returns the name of the CSI driver behind a volume, or "" when it has none:
// inline CSI, in-tree volumes CSI migration translates, and claims (persistentVolumeClaim,
// generic ephemeral) through their PersistentVolume.
func (r *Restriction) volumeCSIDriver(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (string, error) {
	switch {
	case v.Ephemeral != nil && v.Ephemeral.VolumeClaimTemplate != nil:
		return r.claimCSIDriver(ctx, pod.Namespace, pod.Name+"-"+v.Name)
	case v.PersistentVolumeClaim != nil:
		return r.claimCSIDriver(ctx, pod.Namespace, v.PersistentVolumeClaim.ClaimName)
	case v.CSI != nil:
		return v.CSI.Driver, nil
	case r.translator.IsInlineMigratable(v):
		// A copy: v belongs to the lister's pod, which must not be modified.
		pv, err := r.translator.TranslateInTreeInlineVolumeToCSI(r.logger, v.DeepCopy(), pod.Namespace)
		if err != nil {
			return "", err
		}
		if pv != nil && pv.Spec.CSI != nil {
			return pv.Spec.CSI.Driver, nil
		}
	}
	return "", nil
}

// claimCSIDriver follows claim -> spec.volumeName -> PersistentVolume -> CSI driver.
func (r *Restriction) claimCSIDriver(_ context.Context, namespace, claim string) (string, error) {
	pvc, err := r.pvcs.PersistentVolumeClaims(namespace).Get(claim)
	if err != nil {
		return "", err
	}
	pv, err := r.pvs.Get(pvc.Spec.VolumeName)
	if err != nil {
		return "", err
	}
	if pv.Spec.CSI != nil {
		return pv.Spec.CSI.Driver, nil
	}
	if r.translator.IsPVMigratable(pv) {
		translated, err := r.translator.TranslateInTreePVToCSI(r.logger, pv)
		if err != nil {
			return "", err
		}
		if translated != nil && translated.Spec.CSI != nil {
			return translated.Spec.CSI.Driver, nil
		}
	}
	return "", nil
}

func (r *Restriction) driverHasAudience(driver, audience string) (bool, error) {
	d, err := r.csiDrivers.Get(driver)
	if err != nil {
		return false, err
	}
	for _, tr := range d.Spec.TokenRequests {
		if r.audienceMatches(tr.Audience, audience) {
			return true, nil
		}
	}
	return false, nil
}

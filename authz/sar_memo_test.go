package authz

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/authfilter/authfilter/internal/identity"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// TestSARMemoFollowsUserContents authorizes one user object three times (the third answered
// through the key memo), changes the user in place, and checks that the change is reviewed:
// the memo never hands out the key of contents the user no longer has.
func TestSARMemoFollowsUserContents(t *testing.T) {
	tests := []struct {
		name   string
		change func(u *user.DefaultInfo)
		want   func(spec *authorizationv1.SubjectAccessReviewSpec) bool
	}{
		{"name", func(u *user.DefaultInfo) { u.Name = "mallory" },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { return s.User == "mallory" }},
		{"uid", func(u *user.DefaultInfo) { u.UID = "2" },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { return s.UID == "2" }},
		{"group in place", func(u *user.DefaultInfo) { u.Groups[0] = "system:masters" },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { return s.Groups[0] == "system:masters" }},
		{"group appended", func(u *user.DefaultInfo) { u.Groups = append(u.Groups, "ops") },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { return len(s.Groups) == 3 }},
		{"extra value in place", func(u *user.DefaultInfo) { u.Extra["scopes"][0] = "admin" },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { return s.Extra["scopes"][0] == "admin" }},
		{"extra key added", func(u *user.DefaultInfo) { u.Extra["more"] = []string{"x"} },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { return len(s.Extra) == 2 }},
		{"extra key renamed", func(u *user.DefaultInfo) { u.Extra = map[string][]string{"scopez": {"read"}} },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { _, ok := s.Extra["scopez"]; return ok }},
		{"extra removed", func(u *user.DefaultInfo) { u.Extra = nil },
			func(s *authorizationv1.SubjectAccessReviewSpec) bool { return len(s.Extra) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := newTestSAR(t, SAROptions{}, respondWith(allowed("")))
			u := &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev", "system:authenticated"},
				Extra: map[string][]string{"scopes": {"read"}}}
			attrs := &authorizer.AttributesRecord{User: u, Verb: "get", Resource: "nodes", Subresource: "stats",
				Name: "node-1", ResourceRequest: true}
			for range 3 {
				if dec, _, err := a.Authorize(t.Context(), attrs); dec != authorizer.DecisionAllow || err != nil {
					t.Fatalf("Authorize = %v, %v", dec, err)
				}
			}
			if n := r.count(); n != 1 {
				t.Fatalf("%d reviews for three identical requests, want 1", n)
			}
			tt.change(u)
			if dec, _, err := a.Authorize(t.Context(), attrs); dec != authorizer.DecisionAllow || err != nil {
				t.Fatalf("Authorize after the change = %v, %v", dec, err)
			}
			sent := r.sent()
			if len(sent) != 2 || !tt.want(&sent[1]) {
				t.Fatalf("after changing the user's %s, reviews sent: %+v; want a second review of the new contents", tt.name, sent)
			}
		})
	}
}

// TestSARMemoSeparatesAttributes authorizes one user object for several attributes, from
// several goroutines (for -race), and checks each decision is the one for its attributes.
func TestSARMemoSeparatesAttributes(t *testing.T) {
	a, r := newTestSAR(t, SAROptions{}, func(spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
		if ra := spec.ResourceAttributes; ra != nil {
			return authorizationv1.SubjectAccessReviewStatus{Allowed: ra.Subresource == "stats", Reason: ra.Verb + " " + ra.Subresource}, nil
		}
		return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: spec.NonResourceAttributes.Verb + " " + spec.NonResourceAttributes.Path}, nil
	})
	users := []*user.DefaultInfo{
		{Name: "alice", Groups: []string{"system:authenticated"}},
		{Name: "alice", Groups: []string{"system:authenticated"}}, // equal contents, another object
		{Name: "bob", Groups: []string{"system:authenticated"}},
	}
	var attrs []authorizer.Attributes
	want := map[int]string{}
	for _, u := range users {
		for _, verb := range []string{"get", "create"} {
			for _, sub := range []string{"stats", "metrics", "proxy"} {
				want[len(attrs)] = verb + " " + sub
				attrs = append(attrs, &authorizer.AttributesRecord{User: u, Verb: verb, Resource: "nodes",
					Subresource: sub, Name: "node-1", ResourceRequest: true})
			}
			want[len(attrs)] = verb + " /healthz"
			attrs = append(attrs, &authorizer.AttributesRecord{User: u, Verb: verb, Path: "/healthz"})
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 300 {
				i := (g + n*5) % len(attrs)
				dec, reason, err := a.Authorize(t.Context(), attrs[i])
				wantAllow := reason == "get stats" || reason == "create stats" || attrs[i].GetPath() == "/healthz"
				if err != nil || reason != want[i] || (dec == authorizer.DecisionAllow) != wantAllow {
					t.Errorf("attributes %d: got %v %q %v, want reason %q", i, dec, reason, err, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	// alice and her equal copy share decisions; bob has his own: 2 users x 8 attributes.
	if n := r.count(); n != 16 {
		t.Fatalf("%d reviews sent, want one per distinct review: 16", n)
	}
	distinct := map[string]bool{}
	for _, spec := range r.sent() {
		distinct[fmt.Sprint(spec)] = true
	}
	if len(distinct) != 16 {
		t.Fatalf("%d distinct reviews sent, want 16", len(distinct))
	}
}

// TestAttributesKeyMatchesReviewKey checks that the key computed from the attributes on the hit
// path is the key of the review that a miss builds and sends.
func TestAttributesKeyMatchesReviewKey(t *testing.T) {
	a, _ := newTestSAR(t, SAROptions{}, respondWith(allowed("")))
	users := []user.Info{
		&user.DefaultInfo{Name: "alice"},
		&user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"a", "b"}, Extra: map[string][]string{"k": {"v1", "v2"}, "j": nil, "a": {}}},
		&user.DefaultInfo{Name: "alice", Groups: []string{}, Extra: map[string][]string{}},
	}
	shapes := identity.NewShapes(0)
	for _, u := range users[:len(users):len(users)] { // the same contents as immutable users
		iu := shapes.Make(u.GetName(), u.GetUID(), u.GetGroups(), u.GetExtra())
		users = append(users, &iu)
	}
	records := []authorizer.AttributesRecord{
		{Verb: "get", Namespace: "ns", APIGroup: "g", APIVersion: "v1", Resource: "nodes", Subresource: "proxy", Name: "n", ResourceRequest: true},
		{Verb: "get", Resource: "nodes", ResourceRequest: true},
		{Verb: "post", Path: "/healthz"},
	}
	for _, u := range users {
		for _, rec := range records {
			rec.User = u
			for _, attrs := range []authorizer.Attributes{rec, &rec} {
				spec, err := reviewSpec(attrs)
				if err != nil {
					t.Fatal(err)
				}
				f := fieldsOf(attrs)
				if got, want := attributesKey(a.hasher, u, &f), reviewKey(a.hasher, &spec); got != want {
					t.Errorf("user %#v, attributes %#v (%T): the hit-path key differs from the review's", u, rec, attrs)
				}
				if !reflect.DeepEqual(f, fieldsOf(rec)) {
					t.Errorf("fieldsOf differs between a record and a pointer to it")
				}
			}
		}
	}
}

// TestSARImmutableUsers checks that an immutable user (what the token authenticator caches) is
// reviewed with its full contents, gets the cached decision of a *user.DefaultInfo with the same
// contents (the keys are equal), and never shares a decision with a user of other contents,
// whether its key comes from the memo or is hashed.
func TestSARImmutableUsers(t *testing.T) {
	want := authorizationv1.SubjectAccessReviewSpec{User: "alice", UID: "1", Groups: []string{"dev", user.AllAuthenticated},
		Extra: map[string]authorizationv1.ExtraValue{"pod": {"p-1"}, "multi": {"a", "b"}}}
	isAlice := func(got authorizationv1.SubjectAccessReviewSpec) bool {
		return got.User == want.User && got.UID == want.UID && reflect.DeepEqual(got.Groups, want.Groups) && reflect.DeepEqual(got.Extra, want.Extra)
	}
	a, r := newTestSAR(t, SAROptions{}, func(spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
		return authorizationv1.SubjectAccessReviewStatus{Allowed: isAlice(spec)}, nil // only alice's exact contents
	})
	shapes := identity.NewShapes(0)
	extra := map[string][]string{"pod": {"p-1"}, "multi": {"a", "b"}}
	alice := shapes.Make("alice", "1", []string{"dev", user.AllAuthenticated}, extra)
	aliceAgain := shapes.Make("alice", "1", []string{"dev", user.AllAuthenticated}, extra) // another object
	aliceDefault := &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev", user.AllAuthenticated}, Extra: extra}
	others := []identity.User{
		shapes.Make("bob", "1", []string{"dev", user.AllAuthenticated}, extra),
		shapes.Make("alice", "2", []string{"dev", user.AllAuthenticated}, extra),
		shapes.Make("alice", "1", []string{user.AllAuthenticated}, extra),
		shapes.Make("alice", "1", []string{"dev", user.AllAuthenticated}, map[string][]string{"multi": {"a", "b"}}),
		shapes.Make("alice", "1", []string{"dev", user.AllAuthenticated}, map[string][]string{"pod": {"p-1"}, "multi": {"ab"}}),
	}
	attrsOf := func(u user.Info) *authorizer.AttributesRecord {
		return &authorizer.AttributesRecord{User: u, Verb: "get", Resource: "nodes", Subresource: "stats", Name: "node-1", ResourceRequest: true}
	}
	for i, u := range []user.Info{&alice, &alice, &alice, &aliceAgain, aliceDefault} {
		if dec, _, err := a.Authorize(t.Context(), attrsOf(u)); dec != authorizer.DecisionAllow || err != nil {
			t.Fatalf("request %d: Authorize = %v, %v", i, dec, err)
		}
	}
	sent := r.sent()
	if len(sent) != 1 {
		t.Fatalf("%d reviews for five requests of one user's contents, want 1", len(sent))
	}
	if !isAlice(sent[0]) {
		t.Fatalf("review sent for the immutable user = %+v, want user %+v", sent[0], want)
	}
	for i := range others {
		for range 2 { // the second is a memo lookup when the first was cached
			if dec, _, err := a.Authorize(t.Context(), attrsOf(&others[i])); dec == authorizer.DecisionAllow || err != nil {
				t.Fatalf("user %d (%s) = %v, %v; want the denial of its own review", i, others[i].GetName(), dec, err)
			}
		}
	}
	if n := r.count(); n != 1+len(others) {
		t.Fatalf("%d reviews, want %d: one per distinct user", n, 1+len(others))
	}
}

package identity

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
)

func TestMakeKeepsContents(t *testing.T) {
	tests := []struct {
		name   string
		groups []string
		extra  map[string][]string
	}{
		{name: "nothing"},
		{name: "groups only", groups: []string{"b", "a", "b"}},
		{name: "one value per key", groups: []string{"g"}, extra: map[string][]string{"z": {"1"}, "a": {"2"}, "m": {"3"}}},
		{name: "several values, and a key without values", extra: map[string][]string{"k": {"1", "2"}, "e": {}, "o": {"3"}}},
	}
	s := NewShapes(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := s.Make("alice", "uid-1", tt.groups, tt.extra)
			if u.GetName() != "alice" || u.GetUID() != "uid-1" {
				t.Fatalf("name, uid = %q, %q", u.GetName(), u.GetUID())
			}
			if got := u.GetGroups(); !reflect.DeepEqual(got, nilIfEmpty(tt.groups)) {
				t.Fatalf("groups = %#v, want %#v", got, tt.groups)
			}
			want := tt.extra
			if len(want) == 0 {
				want = nil
			}
			got := u.GetExtra()
			if len(got) != len(want) {
				t.Fatalf("extra = %#v, want %#v", got, want)
			}
			for k, v := range want {
				if g, ok := got[k]; !ok || len(g) != len(v) || (len(v) > 0 && !reflect.DeepEqual(g, v)) {
					t.Fatalf("extra[%q] = %#v (present %v), want %#v", k, g, ok, v)
				}
			}
			prev := ""
			for i := range u.ExtraLen() {
				k, v := u.Extra(i)
				if k <= prev {
					t.Fatalf("extra keys not sorted: %q after %q", k, prev)
				}
				prev = k
				if !reflect.DeepEqual(v, got[k]) && len(v)+len(got[k]) > 0 {
					t.Fatalf("Extra(%d) = %q %#v, GetExtra has %#v", i, k, v, got[k])
				}
			}
			var _ user.Info = &u
		})
	}
}

func nilIfEmpty(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}

func TestUserCannotBeChangedThroughItsArgumentsOrResults(t *testing.T) {
	s := NewShapes(0)
	groups := []string{"dev"}
	extra := map[string][]string{"k": {"v"}}
	u := s.Make("alice", "1", groups, extra)
	other := s.Make("bob", "2", []string{"dev"}, map[string][]string{"k": {"w"}})

	groups[0] = "admin"
	extra["k"][0] = "changed"
	extra["new"] = []string{"x"}
	g := u.GetGroups()
	g[0] = "system:masters"
	_ = append(g[:0], "x", "y")
	e := u.GetExtra()
	e["k"][0] = "changed again"
	e["k"] = append(e["k"], "more")

	if got := u.GetGroups(); !reflect.DeepEqual(got, []string{"dev"}) {
		t.Fatalf("groups = %q after changing the arguments and results, want [dev]", got)
	}
	if got := u.GetExtra(); !reflect.DeepEqual(got, map[string][]string{"k": {"v"}}) {
		t.Fatalf("extra = %q after changing the arguments and results, want k=[v]", got)
	}
	if got := other.GetGroups(); !reflect.DeepEqual(got, []string{"dev"}) {
		t.Fatalf("a user of the same shape has groups %q, want [dev]", got)
	}
	if k, v := other.Extra(0); k != "k" || !reflect.DeepEqual(v, []string{"w"}) {
		t.Fatalf("a user of the same shape has extra %q=%q, want k=[w]", k, v)
	}
}

func TestShapesAreSharedAndBounded(t *testing.T) {
	s := NewShapes(4)
	a := s.Make("a", "", []string{"g1", "g2"}, map[string][]string{"k": {"1"}})
	b := s.Make("b", "", []string{"g1", "g2"}, map[string][]string{"k": {"2"}})
	if a.shape != b.shape {
		t.Fatal("two users with the same groups and extra keys do not share their shape")
	}
	for _, other := range []User{
		s.Make("c", "", []string{"g2", "g1"}, map[string][]string{"k": {"1"}}),      // order of groups
		s.Make("d", "", []string{"g1", "g2"}, map[string][]string{"k": {"1", "2"}}), // number of values
		s.Make("e", "", []string{"g1", "g2"}, map[string][]string{"j": {"1"}}),      // key
		s.Make("f", "", []string{"g1g2"}, map[string][]string{"k": {"1"}}),          // joined names
	} {
		if other.shape == a.shape {
			t.Fatalf("user %q shares the shape of a user with other groups or extra keys", other.name)
		}
	}
	for i := range 100 {
		s.Make("x", "", []string{fmt.Sprint("group-", i)}, nil)
		if n := len(s.m); n > 4 {
			t.Fatalf("%d shapes kept, want at most 4", n)
		}
	}
	if got := a.GetGroups(); !reflect.DeepEqual(got, []string{"g1", "g2"}) {
		t.Fatalf("groups = %q after the shapes were forgotten, want [g1 g2]", got)
	}

	none := NewShapes(-1)
	if x, y := none.Make("a", "", []string{"g"}, nil), none.Make("b", "", []string{"g"}, nil); x.shape == y.shape || len(none.m) != 0 {
		t.Fatal("NewShapes(-1) shares shapes")
	}
}

func TestWithGroup(t *testing.T) {
	s := NewShapes(0)
	u := s.Make("alice", "1", []string{"dev"}, map[string][]string{"k": {"a", "b"}})
	w := s.WithGroup(&u, user.AllAuthenticated)
	if got := w.GetGroups(); !reflect.DeepEqual(got, []string{"dev", user.AllAuthenticated}) {
		t.Fatalf("groups = %q", got)
	}
	if !reflect.DeepEqual(w.GetExtra(), u.GetExtra()) || w.GetName() != "alice" || w.GetUID() != "1" {
		t.Fatalf("WithGroup changed more than the groups: %#v", w)
	}
	if got := u.GetGroups(); !reflect.DeepEqual(got, []string{"dev"}) {
		t.Fatalf("the original's groups became %q", got)
	}
	var zero User
	if z := s.WithGroup(&zero, "g"); !reflect.DeepEqual(z.GetGroups(), []string{"g"}) || z.GetExtra() != nil {
		t.Fatalf("WithGroup of the zero user = %#v", z)
	}
}

func TestZeroUser(t *testing.T) {
	var u User
	if u.GetName() != "" || u.GetUID() != "" || u.GetGroups() != nil || u.GetExtra() != nil || u.ExtraLen() != 0 || u.HasGroup("") {
		t.Fatalf("zero user is not empty: %#v", u)
	}
}

// TestShapesConcurrent builds users of a few shapes from many goroutines (for -race) while the
// table is small enough to be forgotten again and again, and checks every user's contents.
func TestShapesConcurrent(t *testing.T) {
	s := NewShapes(2)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				groups := []string{fmt.Sprint("g", (g+i)%5), user.AllAuthenticated}
				u := s.Make(fmt.Sprint("u", i), "", groups, map[string][]string{"k": {fmt.Sprint(i)}})
				if got := u.GetGroups(); !reflect.DeepEqual(got, groups) || u.GetExtra()["k"][0] != fmt.Sprint(i) {
					t.Errorf("user %d of goroutine %d: groups %q extra %q", i, g, got, u.GetExtra())
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestNewSharesNothing checks New, which builds a user without a Shapes: the same contents as
// Make, and no shape shared with another user.
func TestNewSharesNothing(t *testing.T) {
	extra := map[string][]string{"k": {"v1", "v2"}}
	a, b := New("alice", "1", []string{"dev"}, extra), New("alice", "1", []string{"dev"}, extra)
	made := NewShapes(0).Make("alice", "1", []string{"dev"}, extra)
	if !reflect.DeepEqual(a.GetGroups(), made.GetGroups()) || !reflect.DeepEqual(a.GetExtra(), made.GetExtra()) ||
		a.GetName() != "alice" || a.GetUID() != "1" {
		t.Fatalf("New = %v %v %v %v, want what Make gives", a.GetName(), a.GetUID(), a.GetGroups(), a.GetExtra())
	}
	if a.shape == b.shape {
		t.Error("two users built with New share a shape")
	}
}

func TestInGroup(t *testing.T) {
	immutable := New("n", "", []string{"system:nodes", "x"}, nil)
	for _, u := range []user.Info{&immutable, &user.DefaultInfo{Name: "n", Groups: []string{"system:nodes", "x"}}} {
		if !InGroup(u, "system:nodes") || !InGroup(u, "x") || InGroup(u, "system:masters") || InGroup(u, "") {
			t.Errorf("InGroup(%T) is wrong", u)
		}
	}
	if n := testing.AllocsPerRun(100, func() { InGroup(&immutable, "system:nodes") }); n != 0 {
		t.Errorf("InGroup allocates %v times for an immutable user", n)
	}
}

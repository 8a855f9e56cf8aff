package attributes

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestGetterFunc(t *testing.T) {
	carol := &user.DefaultInfo{Name: "carol"}
	var gotUser user.Info
	var gotReq *http.Request
	want := []authorizer.Attributes{authorizer.AttributesRecord{User: carol, Verb: "get", Path: "/x"}}
	var g Getter = GetterFunc(func(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
		gotUser, gotReq = u, r
		return want, nil
	})
	r := readRequest(t, http.MethodGet, "/x")
	got, err := g.GetAttributes(carol, r)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetAttributes = %v, %v; want %v, nil", got, err, want)
	}
	if gotUser != carol || gotReq != r {
		t.Errorf("func called with %v, %p; want %v, %p", gotUser, gotReq, carol, r)
	}
}

func TestGetterFuncErrorsAreMatchable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		is   error
	}{
		{"method", fmt.Errorf("%w: OPTIONS", ErrMethodNotAllowed), ErrMethodNotAllowed},
		{"path", fmt.Errorf("%w: /a/../b", ErrNonCanonicalPath), ErrNonCanonicalPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := GetterFunc(func(user.Info, *http.Request) ([]authorizer.Attributes, error) {
				return nil, fmt.Errorf("custom getter: %w", tt.err)
			})
			_, err := g.GetAttributes(nil, readRequest(t, http.MethodGet, "/"))
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v does not match %v", err, tt.is)
			}
		})
	}
	if errors.Is(ErrMethodNotAllowed, ErrNonCanonicalPath) || errors.Is(ErrNonCanonicalPath, ErrMethodNotAllowed) {
		t.Error("the two sentinel errors match each other")
	}
}

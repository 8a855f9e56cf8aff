package authfilter

import (
	_ "github.com/go-logr/logr"
	_ "github.com/go-logr/logr/testr"
	_ "k8s.io/api/authentication/v1"
	_ "k8s.io/api/authorization/v1"
	_ "k8s.io/apimachinery/pkg/apis/meta/v1"
	_ "k8s.io/apiserver/pkg/authentication/authenticator"
	_ "k8s.io/apiserver/pkg/authentication/user"
	_ "k8s.io/apiserver/pkg/authorization/authorizer"
	_ "k8s.io/apiserver/pkg/endpoints/request"
	_ "k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	_ "k8s.io/apiserver/pkg/authorization/authorizerfactory"
	_ "k8s.io/apiserver/pkg/endpoints/filters"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "k8s.io/client-go/testing"
	_ "k8s.io/client-go/tools/clientcmd"
	_ "k8s.io/kubelet/config/v1beta1"
	_ "sigs.k8s.io/yaml"
	_ "k8s.io/apimachinery/pkg/runtime/serializer"
	_ "k8s.io/apiserver/pkg/endpoints/request"
)

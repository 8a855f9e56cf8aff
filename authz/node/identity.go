package node

import (
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/internal/identity"
)

// NodeUserPrefix is the user-name prefix of node identities: a node named n authenticates as
// "system:node:n" (and is in the group [user.NodesGroup], "system:nodes").
const NodeUserPrefix = "system:node:"

// Identify reports whether u is a node and, if so, which one. A user is node nodeName only when
// its name is "system:node:<nodeName>" with a non-empty nodeName AND its groups contain
// "system:nodes"; a member of system:nodes with any other name, a system:node:<name> user
// outside that group, the bare "system:node:" and a nil user are not nodes (isNode false,
// nodeName empty). The check is exact and case-sensitive, like the API server's.
func Identify(u user.Info) (nodeName string, isNode bool) {
	if u == nil {
		return "", false
	}
	name, ok := strings.CutPrefix(u.GetName(), NodeUserPrefix)
	if !ok || name == "" {
		return "", false
	}
	if !identity.InGroup(u, user.NodesGroup) {
		return "", false
	}
	return name, true
}

#!/usr/bin/env bash
# build-realk8s.sh builds the real Kubernetes control-plane binaries used by
# the e2e suite (test/e2e/...) from Go modules:
#
#   bin/realk8s/kube-apiserver  k8s.io/kubernetes v1.37.2 (test/e2e/tools)
#   bin/realk8s/kubectl         k8s.io/kubernetes v1.37.2 (test/e2e/tools)
#   bin/realk8s/etcd            go.etcd.io/etcd/server/v3 v3.7.3 (test/e2e/etcdtools)
#
# The script is idempotent: a binary is rebuilt only when it is missing or
# older than the go.mod/go.sum of the module that produces it. Set FORCE=1 to
# rebuild everything. The usual GOMODCACHE/GOCACHE are used, so a warm build
# cache turns a ~5 minute cold build into seconds.
#
# Usage: hack/build-realk8s.sh [OUT_DIR]   (default: <repo>/bin/realk8s)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-${ROOT}/bin/realk8s}"
mkdir -p "${OUT}"
OUT="$(cd "${OUT}" && pwd)"

K8S_VERSION="v1.37.2"
K8S_MAJOR="1"
K8S_MINOR="37"

export CGO_ENABLED=0

version_ldflags() {
  local pkg flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitVersion=${K8S_VERSION}"
    flags+=" -X ${pkg}.gitMajor=${K8S_MAJOR}"
    flags+=" -X ${pkg}.gitMinor=${K8S_MINOR}"
    flags+=" -X ${pkg}.gitTreeState=clean"
  done
  printf '%s' "-s -w${flags}"
}
K8S_LDFLAGS="$(version_ldflags)"
ETCD_LDFLAGS="-s -w"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# up_to_date BINARY MODDIR: true when BINARY exists and is newer than the
# module's go.mod and go.sum.
up_to_date() {
  local bin="$1" moddir="$2"
  [[ "${FORCE:-0}" != "1" ]] || return 1
  [[ -x "${bin}" ]] || return 1
  [[ "${bin}" -nt "${moddir}/go.mod" ]] || return 1
  [[ "${bin}" -nt "${moddir}/go.sum" ]] || return 1
}

# build NAME MODDIR PACKAGE LDFLAGS
build() {
  local name="$1" moddir="$2" pkg="$3" ldflags="$4"
  local bin="${OUT}/${name}"
  if up_to_date "${bin}" "${moddir}"; then
    echo "build-realk8s: ${name}: up to date, skipping"
    return 0
  fi
  echo "build-realk8s: ${name}: building ${pkg} ..."
  local start tmp
  start="$(now)"
  tmp="${bin}.tmp.$$"
  # Build into a temporary file so an interrupted build never leaves a
  # binary that looks up to date.
  if ! go build -C "${moddir}" -mod=readonly -buildvcs=false -trimpath \
      -ldflags "${ldflags}" -o "${tmp}" "${pkg}"; then
    rm -f "${tmp}"
    echo "build-realk8s: ${name}: build FAILED after $(elapsed "${start}") s" >&2
    return 1
  fi
  mv -f "${tmp}" "${bin}"
  echo "build-realk8s: ${name}: built in $(elapsed "${start}") s"
}

TOTAL_START="$(now)"
echo "build-realk8s: go $(go env GOVERSION), output ${OUT}"
build kube-apiserver "${ROOT}/test/e2e/tools" k8s.io/kubernetes/cmd/kube-apiserver "${K8S_LDFLAGS}"
build kubectl "${ROOT}/test/e2e/tools" k8s.io/kubernetes/cmd/kubectl "${K8S_LDFLAGS}"
build etcd "${ROOT}/test/e2e/etcdtools" go.etcd.io/etcd/server/v3 "${ETCD_LDFLAGS}"
echo "build-realk8s: total $(elapsed "${TOTAL_START}") s"

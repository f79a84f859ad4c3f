#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver + etcd) from Go modules and
# caches the upstream CRDs the tests install. Called by `make controlplane`.
#
# Outputs (all under BIN_DIR, default <repo>/bin, gitignored):
#   k8s/<k8s-version>/kube-apiserver, k8s/<k8s-version>/etcd, k8s/<k8s-version>/.stamp
#   kcm/<k8s-version>/kube-controller-manager, kcm/<k8s-version>/.stamp
#                           (the end-to-end harness runs its garbage collector)
#   crds/eck/*.yaml         ECK CRDs (the Elasticsearch CRD) from github.com/elastic/cloud-on-k8s/v3
#   crds/crossplane/*.yaml  Crossplane's cluster/crds from github.com/crossplane/crossplane/v2
#   crds/.stamp
#
# Versions come from the tool modules, the single source of truth:
#   hack/controlplane/kube-apiserver/go.mod  (k8s.io/kubernetes)
#   hack/controlplane/kube-controller-manager/go.mod  (k8s.io/kubernetes, same version)
#   hack/controlplane/etcd/go.mod            (go.etcd.io/etcd/server/v3)
#   hack/controlplane/crds/go.mod            (cloud-on-k8s, crossplane)
# A stamp file records the versions plus a hash of those go.mod/go.sum files
# and the Go version; when it matches and the binaries exist nothing is rebuilt.
#
# Environment:
#   BIN_DIR   output root (default <repo>/bin)
#   FORCE=1   rebuild / re-copy even when the stamp matches
#   GOFLAGS   passed through (the scripts add nothing that overrides -mod)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
TOOLS="${ROOT}/hack/controlplane"
LOG_TAG=controlplane
# The tool modules must never be resolved through a go.work of the main repo.
export GOWORK=off
# shellcheck source=lib.sh
source "${ROOT}/hack/lib.sh"

K8S_MOD_VERSION="$(modversion "${TOOLS}/kube-apiserver/go.mod" k8s.io/kubernetes)"
ETCD_MOD_VERSION="$(modversion "${TOOLS}/etcd/go.mod" go.etcd.io/etcd/server/v3)"
K8S_VERSION="${K8S_MOD_VERSION#v}"
OUT="${BIN_DIR}/k8s/${K8S_VERSION}"
GO_VERSION="$(go env GOVERSION)"

# ---- kube-apiserver + etcd ------------------------------------------------
want_stamp="$(printf 'kubernetes=%s\netcd=%s\ngo=%s\ninputs=%s\n' \
	"${K8S_MOD_VERSION}" "${ETCD_MOD_VERSION}" "${GO_VERSION}" \
	"$(filehash "${TOOLS}"/kube-apiserver/go.{mod,sum} "${TOOLS}"/etcd/go.{mod,sum} "${TOOLS}"/etcd/main.go)")"

if stamp_fresh "${OUT}/.stamp" "${want_stamp}" "${OUT}/kube-apiserver" "${OUT}/etcd"; then
	log "kube-apiserver ${K8S_MOD_VERSION} + etcd ${ETCD_MOD_VERSION}: cached in ${OUT}"
else
	mkdir -p "${OUT}"
	rm -f "${OUT}/.stamp"
	# -X sets what /version reports; the API server's behaviour comes from the
	# compiled-in binary version, not these strings.
	minor="$(echo "${K8S_VERSION}" | cut -d. -f2)"
	ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_MOD_VERSION}"
	ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
	ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

	log "kube-apiserver ${K8S_MOD_VERSION}: building (takes many minutes on 2 cores)"
	gobuild "${TOOLS}/kube-apiserver" "${OUT}/kube-apiserver" -ldflags "${ldflags}" k8s.io/kubernetes/cmd/kube-apiserver

	log "etcd ${ETCD_MOD_VERSION}: building"
	gobuild "${TOOLS}/etcd" "${OUT}/etcd" -ldflags "-s -w" .

	echo "${want_stamp}" >"${OUT}/.stamp"
	log "kube-apiserver + etcd: built into ${OUT}"
fi

# ---- kube-controller-manager ----------------------------------------------
# envtest runs no controller manager, but Crossplane core leaves the deletion
# of composed resources (and of package revisions' objects) to Kubernetes'
# garbage collector, so the end-to-end harness runs the real one. Its own
# stamp and directory keep the kube-apiserver build above untouched.
KCM_MOD_VERSION="$(modversion "${TOOLS}/kube-controller-manager/go.mod" k8s.io/kubernetes)"
if [[ "${KCM_MOD_VERSION}" != "${K8S_MOD_VERSION}" ]]; then
	echo "hack/controlplane: kube-controller-manager pins k8s.io/kubernetes ${KCM_MOD_VERSION}, kube-apiserver ${K8S_MOD_VERSION}; they must match" >&2
	exit 1
fi
KCM_OUT="${BIN_DIR}/kcm/${K8S_VERSION}"
want_kcm_stamp="$(printf 'kubernetes=%s\ngo=%s\ninputs=%s\n' "${KCM_MOD_VERSION}" "${GO_VERSION}" \
	"$(filehash "${TOOLS}"/kube-controller-manager/go.{mod,sum})")"
if stamp_fresh "${KCM_OUT}/.stamp" "${want_kcm_stamp}" "${KCM_OUT}/kube-controller-manager"; then
	log "kube-controller-manager ${KCM_MOD_VERSION}: cached in ${KCM_OUT}"
else
	mkdir -p "${KCM_OUT}"
	rm -f "${KCM_OUT}/.stamp"
	minor="$(echo "${K8S_VERSION}" | cut -d. -f2)"
	ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${KCM_MOD_VERSION}"
	ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
	ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
	log "kube-controller-manager ${KCM_MOD_VERSION}: building (shares most packages with kube-apiserver)"
	gobuild "${TOOLS}/kube-controller-manager" "${KCM_OUT}/kube-controller-manager" -ldflags "${ldflags}" \
		k8s.io/kubernetes/cmd/kube-controller-manager
	echo "${want_kcm_stamp}" >"${KCM_OUT}/.stamp"
	log "kube-controller-manager: built into ${KCM_OUT}"
fi

# ---- CRDs -------------------------------------------------------------------
ECK_MOD=github.com/elastic/cloud-on-k8s/v3
XP_MOD=github.com/crossplane/crossplane/v2
ECK_VERSION="$(modversion "${TOOLS}/crds/go.mod" "${ECK_MOD}")"
XP_VERSION="$(modversion "${TOOLS}/crds/go.mod" "${XP_MOD}")"
# Only the Elasticsearch CRD is needed; add more ECK CRD file names here.
ECK_CRDS=(elasticsearch.k8s.elastic.co_elasticsearches.yaml)
CRD_OUT="${BIN_DIR}/crds"

want_crd_stamp="$(printf '%s=%s\n%s=%s\neck-files=%s\ninputs=%s\n' \
	"${ECK_MOD}" "${ECK_VERSION}" "${XP_MOD}" "${XP_VERSION}" "${ECK_CRDS[*]}" \
	"$(filehash "${TOOLS}"/crds/go.{mod,sum})")"

if stamp_fresh "${CRD_OUT}/.stamp" "${want_crd_stamp}"; then
	log "CRDs (${ECK_MOD}@${ECK_VERSION}, ${XP_MOD}@${XP_VERSION}): cached in ${CRD_OUT}"
else
	log "CRDs: resolving ${ECK_MOD}@${ECK_VERSION} and ${XP_MOD}@${XP_VERSION}"
	eck_dir="$(moddir "${TOOLS}/crds" "${ECK_MOD}" "${ECK_VERSION}")"
	xp_dir="$(moddir "${TOOLS}/crds" "${XP_MOD}" "${XP_VERSION}")"
	[[ -n "${eck_dir}" && -n "${xp_dir}" ]] || {
		echo "cannot resolve module directories (eck='${eck_dir}' crossplane='${xp_dir}')" >&2
		exit 1
	}

	rm -rf "${CRD_OUT}"
	mkdir -p "${CRD_OUT}/eck" "${CRD_OUT}/crossplane"
	# Only YAML is read from cloud-on-k8s: its Go code is Elastic-licensed.
	for f in "${ECK_CRDS[@]}"; do
		install -m 0644 "${eck_dir}/config/crds/v1/resources/${f}" "${CRD_OUT}/eck/${f}"
	done
	install -m 0644 "${xp_dir}"/cluster/crds/*.yaml "${CRD_OUT}/crossplane/"
	echo "${want_crd_stamp}" >"${CRD_OUT}/.stamp"
	log "CRDs: copied $(ls "${CRD_OUT}/eck" | wc -l) ECK and $(ls "${CRD_OUT}/crossplane" | wc -l) Crossplane CRD files into ${CRD_OUT}"
fi

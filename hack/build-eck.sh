#!/usr/bin/env bash
# Builds ECK's operator (github.com/elastic/cloud-on-k8s/v3, pinned in the
# tool module hack/eck, whose main wraps ECK's manager command with a test
# resolver, see hack/eck/main.go) and copies ECK's CRDs from the same
# module. Called by `make eck`; the end-to-end tests run the operator
# against the test API server. ECK is Elastic License 2.0: its code is
# built as a program only, never imported into eslink's module or copied.
#
# Outputs (under BIN_DIR, default <repo>/bin):
#   eck/<version>/eck-operator   the operator
#   eck/<version>/all-crds.yaml  config/crds/v1/all-crds.yaml of the module
#   eck/<version>/.stamp         the ECK and Go versions and a hash of hack/eck
#
# Environment:
#   BIN_DIR   output root (default <repo>/bin)
#   FORCE=1   rebuild even when the stamp matches
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
SRC="${ROOT}/hack/eck"
LOG_TAG=eck
export GOWORK=off
# shellcheck source=lib.sh
source "${ROOT}/hack/lib.sh"

ECK_MOD=github.com/elastic/cloud-on-k8s/v3
ECK_VERSION="$(modversion "${SRC}/go.mod" "${ECK_MOD}")"
OUT="${BIN_DIR}/eck/${ECK_VERSION}"
want_stamp="$(printf 'eck=%s\ngo=%s\ninputs=%s\n' "${ECK_VERSION}" "$(go env GOVERSION)" \
	"$(filehash "${SRC}"/go.mod "${SRC}"/go.sum $(find "${SRC}" -name '*.go' ! -name '*_test.go' | sort))")"

if stamp_fresh "${OUT}/.stamp" "${want_stamp}" "${OUT}/eck-operator" "${OUT}/all-crds.yaml"; then
	log "ECK operator ${ECK_VERSION}: cached in ${OUT}"
	exit 0
fi

log "ECK operator ${ECK_VERSION}: building (a few minutes on 2 cores)"
rm -f "${OUT}/.stamp"
# No -tags release: that build needs a generated license public key the
# module does not hold; the enterprise trial works without it.
gobuild "${SRC}" "${OUT}/eck-operator" -ldflags "-s -w" .
eck_dir="$(moddir "${SRC}" "${ECK_MOD}" "${ECK_VERSION}")"
[[ -n "${eck_dir}" ]] || { echo "cannot resolve ${ECK_MOD}@${ECK_VERSION}" >&2; exit 1; }
install -m 0644 "${eck_dir}/config/crds/v1/all-crds.yaml" "${OUT}/all-crds.yaml"
echo "${want_stamp}" >"${OUT}/.stamp"
log "ECK operator ${ECK_VERSION}: built ${OUT}/eck-operator and copied its CRDs"

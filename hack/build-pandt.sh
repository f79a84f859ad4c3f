#!/usr/bin/env bash
# Builds crossplane-contrib/function-patch-and-transform (pinned in the tool
# module hack/pandt) into BIN_DIR/function-patch-and-transform, the comparison
# point of `make bench`.
#
# The stamp records the Go version and a hash of hack/pandt's go.mod/go.sum;
# when it matches and the binary exists nothing is rebuilt.
#
# Environment:
#   BIN_DIR   output root (default <repo>/bin)
#   FORCE=1   rebuild even when the stamp matches
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
SRC="${ROOT}/hack/pandt"
OUT="${BIN_DIR}/function-patch-and-transform"
LOG_TAG=pandt
export GOWORK=off
# shellcheck source=lib.sh
source "${ROOT}/hack/lib.sh"

PANDT_VERSION="$(modversion "${SRC}/go.mod" github.com/crossplane-contrib/function-patch-and-transform)"
want_stamp="$(printf 'pandt=%s\ngo=%s\ninputs=%s\n' "${PANDT_VERSION}" "$(go env GOVERSION)" \
	"$(filehash "${SRC}"/go.mod "${SRC}"/go.sum)")"

if stamp_fresh "${OUT}.stamp" "${want_stamp}" "${OUT}"; then
	log "function-patch-and-transform ${PANDT_VERSION}: cached at ${OUT}"
	exit 0
fi

log "function-patch-and-transform ${PANDT_VERSION}: building"
rm -f "${OUT}.stamp"
gobuild "${SRC}" "${OUT}" -ldflags "-s -w" github.com/crossplane-contrib/function-patch-and-transform
echo "${want_stamp}" >"${OUT}.stamp"
log "function-patch-and-transform: built ${OUT}"

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
FORCE="${FORCE:-0}"
OUT="${BIN_DIR}/function-patch-and-transform"
export GOWORK=off

log() { echo "==> [pandt] $*"; }

PANDT_VERSION="$(awk '$1 == "github.com/crossplane-contrib/function-patch-and-transform" { print $2; exit }' "${SRC}/go.mod")"
want_stamp="$(printf 'pandt=%s\ngo=%s\ninputs=%s\n' "${PANDT_VERSION}" "$(go env GOVERSION)" \
	"$(cat "${SRC}"/go.mod "${SRC}"/go.sum | sha256sum | cut -d' ' -f1)")"

if [[ "${FORCE}" != 1 && -x "${OUT}" && -f "${OUT}.stamp" && "$(cat "${OUT}.stamp")" == "${want_stamp}" ]]; then
	log "function-patch-and-transform ${PANDT_VERSION}: cached at ${OUT}"
	exit 0
fi

log "function-patch-and-transform ${PANDT_VERSION}: building"
mkdir -p "${BIN_DIR}"
rm -f "${OUT}.stamp"
(cd "${SRC}" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${OUT}.tmp" github.com/crossplane-contrib/function-patch-and-transform)
mv -f "${OUT}.tmp" "${OUT}"
echo "${want_stamp}" >"${OUT}.stamp"
log "function-patch-and-transform: built ${OUT}"

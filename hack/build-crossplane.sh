#!/usr/bin/env bash
# Builds Crossplane core (github.com/crossplane/crossplane/v2/cmd/crossplane,
# pinned in the tool module hack/crossplane) into BIN_DIR/crossplane. Called by
# `make crossplane`; the end-to-end harness and `make demo` run it with
# `core init` and `core start`.
#
# crossplane/v2's go.mod replaces apis/v2 with ./apis, a directory its module
# zip does not hold, so the tool module requires the published apis/v2 cut
# from the same tag; the version reported by `crossplane --version` is set as
# Crossplane's own release build sets it, because packages' Crossplane version
# constraints are checked against it.
#
# Output: BIN_DIR/crossplane and BIN_DIR/.crossplane.stamp. The stamp records
# the Crossplane version, the Go version and a hash of hack/crossplane's
# go.mod/go.sum; when it matches and the binary exists nothing is rebuilt.
#
# Environment:
#   BIN_DIR   output root (default <repo>/bin)
#   FORCE=1   rebuild even when the stamp matches
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
SRC="${ROOT}/hack/crossplane"
FORCE="${FORCE:-0}"
OUT="${BIN_DIR}/crossplane"
STAMP="${BIN_DIR}/.crossplane.stamp"
export GOWORK=off

log() { echo "==> [crossplane] $*"; }

XP_VERSION="$(awk '$1 == "github.com/crossplane/crossplane/v2" { print $2; exit }' "${SRC}/go.mod")"
want_stamp="$(printf 'crossplane=%s\ngo=%s\ninputs=%s\n' "${XP_VERSION}" "$(go env GOVERSION)" \
	"$(cat "${SRC}"/go.mod "${SRC}"/go.sum | sha256sum | cut -d' ' -f1)")"

if [[ "${FORCE}" != 1 && -x "${OUT}" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${want_stamp}" ]]; then
	log "crossplane core ${XP_VERSION}: cached at ${OUT}"
	exit 0
fi

log "crossplane core ${XP_VERSION}: building"
mkdir -p "${BIN_DIR}"
rm -f "${STAMP}"
(cd "${SRC}" && CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=${XP_VERSION}" \
	-o "${OUT}.tmp" github.com/crossplane/crossplane/v2/cmd/crossplane)
mv -f "${OUT}.tmp" "${OUT}"
echo "${want_stamp}" >"${STAMP}"
log "crossplane core: built ${OUT} ($("${OUT}" --version))"

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
OUT="${BIN_DIR}/crossplane"
STAMP="${BIN_DIR}/.crossplane.stamp"
LOG_TAG=crossplane
export GOWORK=off
# shellcheck source=lib.sh
source "${ROOT}/hack/lib.sh"

XP_VERSION="$(modversion "${SRC}/go.mod" github.com/crossplane/crossplane/v2)"
want_stamp="$(printf 'crossplane=%s\ngo=%s\ninputs=%s\n' "${XP_VERSION}" "$(go env GOVERSION)" \
	"$(filehash "${SRC}"/go.mod "${SRC}"/go.sum)")"

if stamp_fresh "${STAMP}" "${want_stamp}" "${OUT}"; then
	log "crossplane core ${XP_VERSION}: cached at ${OUT}"
	exit 0
fi

log "crossplane core ${XP_VERSION}: building"
rm -f "${STAMP}"
gobuild "${SRC}" "${OUT}" \
	-ldflags "-s -w -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=${XP_VERSION}" \
	github.com/crossplane/crossplane/v2/cmd/crossplane
echo "${want_stamp}" >"${STAMP}"
log "crossplane core: built ${OUT} ($("${OUT}" --version))"

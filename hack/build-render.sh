#!/usr/bin/env bash
# Builds Crossplane's composition render engine (the wrapper module in
# hack/render) into BIN_DIR/xprender. Called by `make render-engine`.
#
# Output: BIN_DIR/xprender (default <repo>/bin/xprender) and BIN_DIR/.xprender.stamp.
# The Crossplane version comes from hack/render/go.mod. The stamp records it
# plus a hash of the wrapper's sources, go.mod/go.sum and the Go version; when
# it matches and the binary exists nothing is rebuilt.
#
# Environment:
#   BIN_DIR   output root (default <repo>/bin)
#   FORCE=1   rebuild even when the stamp matches
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
SRC="${ROOT}/hack/render"
LOG_TAG=render-engine
export GOWORK=off
# shellcheck source=lib.sh
source "${ROOT}/hack/lib.sh"

XP_VERSION="$(modversion "${SRC}/go.mod" github.com/crossplane/crossplane/v2)"
want_stamp="$(printf 'crossplane=%s\ngo=%s\ninputs=%s\n' "${XP_VERSION}" "$(go env GOVERSION)" \
	"$(filehash "${SRC}"/go.mod "${SRC}"/go.sum "${SRC}"/*.go)")"

if stamp_fresh "${BIN_DIR}/.xprender.stamp" "${want_stamp}" "${BIN_DIR}/xprender"; then
	log "xprender (crossplane ${XP_VERSION}): cached at ${BIN_DIR}/xprender"
	exit 0
fi

log "xprender (crossplane ${XP_VERSION}): building"
rm -f "${BIN_DIR}/.xprender.stamp"
gobuild "${SRC}" "${BIN_DIR}/xprender" -ldflags "-s -w" .
echo "${want_stamp}" >"${BIN_DIR}/.xprender.stamp"
log "xprender: built ${BIN_DIR}/xprender"

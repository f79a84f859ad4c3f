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
FORCE="${FORCE:-0}"
export GOWORK=off

log() { echo "==> [render-engine] $*"; }

XP_VERSION="$(awk '$1 == "github.com/crossplane/crossplane/v2" { print $2; exit }' "${SRC}/go.mod")"
want_stamp="$(printf 'crossplane=%s\ngo=%s\ninputs=%s\n' "${XP_VERSION}" "$(go env GOVERSION)" \
	"$(cat "${SRC}"/go.mod "${SRC}"/go.sum "${SRC}"/*.go | sha256sum | cut -d' ' -f1)")"

if [[ "${FORCE}" != 1 && -x "${BIN_DIR}/xprender" && -f "${BIN_DIR}/.xprender.stamp" &&
	"$(cat "${BIN_DIR}/.xprender.stamp")" == "${want_stamp}" ]]; then
	log "xprender (crossplane ${XP_VERSION}): cached at ${BIN_DIR}/xprender"
	exit 0
fi

log "xprender (crossplane ${XP_VERSION}): building"
mkdir -p "${BIN_DIR}"
rm -f "${BIN_DIR}/.xprender.stamp"
(cd "${SRC}" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${BIN_DIR}/xprender.tmp" .)
mv -f "${BIN_DIR}/xprender.tmp" "${BIN_DIR}/xprender"
echo "${want_stamp}" >"${BIN_DIR}/.xprender.stamp"
log "xprender: built ${BIN_DIR}/xprender"

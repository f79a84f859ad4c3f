#!/usr/bin/env bash
# Builds Prometheus' promtool (github.com/prometheus/prometheus/cmd/promtool,
# pinned in the tool module hack/promtool) into BIN_DIR/promtool. Called by
# `make promtool`; `make rules-test` runs it on examples/monitoring/rules.
#
# Output: BIN_DIR/promtool and BIN_DIR/.promtool.stamp. The stamp records the
# Prometheus version, the Go version and a hash of hack/promtool's
# go.mod/go.sum; when it matches and the binary exists nothing is rebuilt.
#
# Environment:
#   BIN_DIR   output root (default <repo>/bin)
#   FORCE=1   rebuild even when the stamp matches
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
SRC="${ROOT}/hack/promtool"
FORCE="${FORCE:-0}"
OUT="${BIN_DIR}/promtool"
STAMP="${BIN_DIR}/.promtool.stamp"
export GOWORK=off

log() { echo "==> [promtool] $*"; }

PROM_VERSION="$(awk '$1 == "github.com/prometheus/prometheus" { print $2; exit }' "${SRC}/go.mod")"
want_stamp="$(printf 'prometheus=%s\ngo=%s\ninputs=%s\n' "${PROM_VERSION}" "$(go env GOVERSION)" \
	"$(cat "${SRC}"/go.mod "${SRC}"/go.sum | sha256sum | cut -d' ' -f1)")"

if [[ "${FORCE}" != 1 && -x "${OUT}" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${want_stamp}" ]]; then
	log "promtool ${PROM_VERSION}: cached at ${OUT}"
	exit 0
fi

log "promtool ${PROM_VERSION}: building"
mkdir -p "${BIN_DIR}"
rm -f "${STAMP}"
(cd "${SRC}" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${OUT}.tmp" github.com/prometheus/prometheus/cmd/promtool)
mv -f "${OUT}.tmp" "${OUT}"
echo "${want_stamp}" >"${STAMP}"
log "promtool: built ${OUT}"

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
OUT="${BIN_DIR}/promtool"
STAMP="${BIN_DIR}/.promtool.stamp"
LOG_TAG=promtool
export GOWORK=off
# shellcheck source=lib.sh
source "${ROOT}/hack/lib.sh"

PROM_VERSION="$(modversion "${SRC}/go.mod" github.com/prometheus/prometheus)"
want_stamp="$(printf 'prometheus=%s\ngo=%s\ninputs=%s\n' "${PROM_VERSION}" "$(go env GOVERSION)" \
	"$(filehash "${SRC}"/go.mod "${SRC}"/go.sum)")"

if stamp_fresh "${STAMP}" "${want_stamp}" "${OUT}"; then
	log "promtool ${PROM_VERSION}: cached at ${OUT}"
	exit 0
fi

log "promtool ${PROM_VERSION}: building"
rm -f "${STAMP}"
gobuild "${SRC}" "${OUT}" -ldflags "-s -w" github.com/prometheus/prometheus/cmd/promtool
echo "${want_stamp}" >"${STAMP}"
log "promtool: built ${OUT}"

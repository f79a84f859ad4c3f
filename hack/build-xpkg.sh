#!/usr/bin/env bash
# Builds eslink's Crossplane packages: `make xpkg`. Pure Go, no container
# engine: the tool module hack/xpkg (BIN_DIR/eslink-xpkg) does what
# `crossplane xpkg build --embed-runtime-image` does.
#
# Outputs (under BIN_DIR, default <repo>/bin):
#   eslink-xpkg                                   the build/push tool (cached by a stamp)
#   xpkg/linux_<arch>/{function,provider}         the static binaries embedded as runtimes
#   xpkg/function-eslink.xpkg                     Function, runtime /usr/local/bin/function-eslink
#   xpkg/provider-eslink.xpkg                     Provider, runtime /usr/local/bin/provider-eslink
#   xpkg/configuration-eslink-namespaced.xpkg     Configuration: namespaced XRD, Composition, activation policy
#   xpkg/configuration-eslink-legacy.xpkg         Configuration: legacy XRD (claims), Composition, activation policy
# Each xpkg is an OCI image tarball named XPKG_REPO/<package>:XPKG_VERSION and
# is rebuilt only when its inputs (binary, package files, tool, version) change.
#
# Environment:
#   BIN_DIR        output root (default <repo>/bin)
#   XPKG_VERSION   package version tag (default v0.1.0)
#   XPKG_ARCH      GOARCH of the embedded binaries (default: go env GOARCH)
#   FORCE=1        rebuild even when the stamps match
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
XPKG_VERSION="${XPKG_VERSION:-v0.1.0}"
XPKG_ARCH="${XPKG_ARCH:-$(go env GOARCH)}"
# The packages' canonical names; the Configurations' dependsOn name these.
XPKG_REPO=xpkg.crossplane.io/eslink
OUT="${BIN_DIR}/xpkg"
TOOL="${BIN_DIR}/eslink-xpkg"
LOG_TAG=xpkg
export GOWORK=off
# shellcheck source=lib.sh
source "${ROOT}/hack/lib.sh"

# ---- the tool ---------------------------------------------------------------
tool_stamp="$(printf 'go=%s\ninputs=%s\n' "$(go env GOVERSION)" \
	"$(filehash "${ROOT}"/hack/xpkg/go.mod "${ROOT}"/hack/xpkg/go.sum "${ROOT}"/hack/xpkg/*.go)")"
if stamp_fresh "${TOOL}.stamp" "${tool_stamp}" "${TOOL}"; then
	log "eslink-xpkg: cached at ${TOOL}"
else
	log "eslink-xpkg: building"
	rm -f "${TOOL}.stamp"
	gobuild "${ROOT}/hack/xpkg" "${TOOL}" .
	echo "${tool_stamp}" >"${TOOL}.stamp"
fi

# ---- the runtimes -------------------------------------------------------------
# Static, stripped Linux binaries, as an image build would make them, with no
# VCS stamp so that the same source gives the same package. go build
# is incremental, so an unchanged binary costs only the link check.
BINS="${OUT}/linux_${XPKG_ARCH}"
mkdir -p "${BINS}"
(cd "${ROOT}" && GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH="${XPKG_ARCH}" \
	go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${BINS}/function" ./function)
(cd "${ROOT}" && GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH="${XPKG_ARCH}" \
	go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${BINS}/provider" ./provider/cmd/provider)
log "runtimes: ${BINS}/function, ${BINS}/provider"

# ---- the packages -------------------------------------------------------------
# build NAME PACKAGE_ROOT [BINARY ENTRYPOINT [extra flags...]]
build() {
	local name="$1" root="${ROOT}/$2"
	shift 2
	local file="${OUT}/${name}.xpkg" args=() inputs
	inputs="$(find "${root}" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort | xargs cat | sha256sum | cut -d' ' -f1)"
	if [[ $# -gt 0 ]]; then
		args=(--runtime-binary "$1" --entrypoint "$2" --os linux --arch "${XPKG_ARCH}")
		inputs+=" $(sha256sum <"$1" | cut -d' ' -f1) $2"
		shift 2
		args+=("$@")
	fi
	local stamp
	stamp="$(printf 'tag=%s\ntool=%s\ninputs=%s %s\n' "${XPKG_REPO}/${name}:${XPKG_VERSION}" \
		"$(filehash "${TOOL}.stamp")" "${inputs}" "$*")"
	if stamp_fresh "${file}.stamp" "${stamp}" "${file}"; then
		log "${name}: unchanged, ${file}"
		return
	fi
	rm -f "${file}.stamp"
	"${TOOL}" build --package-root "${root}" --tag "${XPKG_REPO}/${name}:${XPKG_VERSION}" --output "${file}" "${args[@]}" |
		sed 's/^/==> [xpkg] /'
	echo "${stamp}" >"${file}.stamp"
}

build function-eslink package/function "${BINS}/function" /usr/local/bin/function-eslink --expose 9443/tcp
build provider-eslink package/provider "${BINS}/provider" /usr/local/bin/provider-eslink
build configuration-eslink-namespaced package/configuration/namespaced
build configuration-eslink-legacy package/configuration/legacy

#!/usr/bin/env bash
# Builds eslink's Crossplane packages: `make xpkg`. Pure Go, no container
# engine: the tool module hack/xpkg (BIN_DIR/eslink-xpkg) does what
# `crossplane xpkg build --embed-runtime-image` does.
#
# Outputs (under BIN_DIR, default <repo>/bin):
#   eslink-xpkg                                   the build/push tool (cached by a stamp)
#   xpkg/linux_<arch>/{function,provider}         the static binaries embedded as runtimes
#   xpkg/linux_<arch>/function-eslink.xpkg        Function, runtime /usr/local/bin/function-eslink
#   xpkg/linux_<arch>/provider-eslink.xpkg        Provider, runtime /usr/local/bin/provider-eslink
#   xpkg/{function,provider}-eslink.xpkg          the same, for the build host's arch
#   xpkg/configuration-eslink-namespaced.xpkg     Configuration: namespaced XRD, Composition, activation policy
#   xpkg/configuration-eslink-legacy.xpkg         Configuration: legacy XRD (claims), Composition, activation policy
# Each xpkg is an OCI image tarball named XPKG_REPO/<package>:XPKG_VERSION and
# is rebuilt only when its inputs (binary, package files, tool, version) change.
# `make xpkg-push` pushes a runtime package's per-arch files as one
# multi-platform index, as Crossplane's own packages ship.
#
# Environment:
#   BIN_DIR        output root (default <repo>/bin)
#   XPKG_VERSION   package version tag (default v0.1.0)
#   XPKG_ARCHS     GOARCHs of the embedded binaries (default: amd64 arm64; the
#                  host's is always built)
#   FORCE=1        rebuild even when the stamps match
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-${ROOT}/bin}"
XPKG_VERSION="${XPKG_VERSION:-v0.1.0}"
HOST_ARCH="$(go env GOARCH)"
XPKG_ARCHS="${XPKG_ARCHS:-amd64 arm64}"
[[ " ${XPKG_ARCHS} " == *" ${HOST_ARCH} "* ]] || XPKG_ARCHS="${HOST_ARCH} ${XPKG_ARCHS}"
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
# Cross-compiled with CGO_ENABLED=0: the binaries are pure Go.
for arch in ${XPKG_ARCHS}; do
	bins="${OUT}/linux_${arch}"
	mkdir -p "${bins}"
	(cd "${ROOT}" && GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH="${arch}" \
		go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${bins}/function" ./function)
	(cd "${ROOT}" && GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH="${arch}" \
		go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${bins}/provider" ./provider/cmd/provider)
	log "runtimes: ${bins}/function, ${bins}/provider"
done

# ---- the packages -------------------------------------------------------------
# build FILE NAME PACKAGE_ROOT [ARCH BINARY ENTRYPOINT [extra flags...]]
build() {
	local file="$1" name="$2" root="${ROOT}/$3"
	shift 3
	local args=() inputs
	inputs="$(find "${root}" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort | xargs cat | sha256sum | cut -d' ' -f1)"
	if [[ $# -gt 0 ]]; then
		args=(--runtime-binary "$2" --entrypoint "$3" --os linux --arch "$1")
		inputs+=" $1 $(sha256sum <"$2" | cut -d' ' -f1) $3"
		shift 3
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

for arch in ${XPKG_ARCHS}; do
	bins="${OUT}/linux_${arch}"
	build "${bins}/function-eslink.xpkg" function-eslink package/function \
		"${arch}" "${bins}/function" /usr/local/bin/function-eslink --expose 9443/tcp
	build "${bins}/provider-eslink.xpkg" provider-eslink package/provider \
		"${arch}" "${bins}/provider" /usr/local/bin/provider-eslink
done
# The host's, for loading into a local Crossplane (the end-to-end suite).
for name in function-eslink provider-eslink; do
	ln -f "${OUT}/linux_${HOST_ARCH}/${name}.xpkg" "${OUT}/${name}.xpkg"
done
build "${OUT}/configuration-eslink-namespaced.xpkg" configuration-eslink-namespaced package/configuration/namespaced
build "${OUT}/configuration-eslink-legacy.xpkg" configuration-eslink-legacy package/configuration/legacy

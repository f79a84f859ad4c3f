# Shared helpers of the hack/build-*.sh scripts: each builds a tool from a
# pinned tool module into BIN_DIR and skips the build while a stamp (the
# versions, the Go version and a hash of the inputs) still matches.
# Source it after setting LOG_TAG (the prefix of progress lines) and FORCE.

# log prints one progress line.
log() { echo "==> [${LOG_TAG}] $*"; }

# filehash prints one hash over the given files, for the stamps.
filehash() { cat "$@" | sha256sum | cut -d' ' -f1; }

# modversion MODFILE MODULE prints the version MODULE is required at.
modversion() {
	awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}

# moddir TOOLDIR MODULE VERSION prints the module's (checksum-verified)
# directory in the module cache, downloading it if needed; TOOLDIR's go.sum
# pins the content.
moddir() {
	(cd "$1" && go mod download -json "$2@$3") |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'
}

# stamp_fresh STAMP WANT FILE... succeeds when nothing needs building: FORCE
# is not 1, every FILE exists and STAMP holds exactly WANT.
stamp_fresh() {
	local stamp="$1" want="$2" f
	shift 2
	[[ "${FORCE:-0}" != 1 && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]] || return 1
	for f in "$@"; do [[ -e "${f}" ]] || return 1; done
}

# gobuild DIR OUT [go build args...] builds in tool module DIR, statically
# and reproducibly, into OUT (through OUT.tmp, so a failed build leaves no
# half-written binary).
gobuild() {
	local dir="$1" out="$2"
	shift 2
	mkdir -p "$(dirname "${out}")"
	(cd "${dir}" && CGO_ENABLED=0 go build -trimpath -o "${out}.tmp" "$@")
	mv -f "${out}.tmp" "${out}"
}

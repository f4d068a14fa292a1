# ensure_buildx: a BuildKit client for bin/bench's BuildKit half. The docker CLI here
# builds with BuildKit only through its buildx component, which Debian bookworm does
# not package. Debian trixie's docker-buildx is a Go binary that needs only glibc
# >= 2.34 (bookworm has 2.36), so it is taken from Debian's archive: trixie's InRelease
# checked with gpgv against bookworm's debian-archive-keyring, Packages.xz against the
# SHA256 in InRelease, the .deb against the SHA256 in Packages. It is unpacked under
# .cache/buildx and run standalone (`docker-buildx build`), against this engine's
# embedded BuildKit (buildx's "docker" driver), so nothing is installed system-wide.
# Sets BUILDX to the command to run; fails with the reason when it cannot.
# shellcheck shell=bash
ensure_buildx() {
  if docker buildx version >/dev/null 2>&1; then BUILDX="docker buildx"; return 0; fi
  local dir="$ROOT/.cache/buildx" archive=http://deb.debian.org/debian suite=trixie
  if [ -x "$dir/docker-buildx" ]; then BUILDX="$dir/docker-buildx"; return 0; fi
  command -v gpgv >/dev/null || { echo "ensure_buildx: gpgv is missing" >&2; return 1; }
  say "fetching docker-buildx from Debian $suite (checked with gpgv and SHA256)"
  local tmp; tmp=$(mktemp -d)
  (
    set -euo pipefail
    cd "$tmp"
    curl -fsS -m 60 -o InRelease "$archive/dists/$suite/InRelease"
    gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg InRelease 2>/dev/null
    curl -fsS -m 300 -o Packages.xz "$archive/dists/$suite/main/binary-amd64/Packages.xz"
    local want; want=$(awk '/^SHA256:/{s=1;next} /^[A-Za-z]/{s=0} s && $3=="main/binary-amd64/Packages.xz"{print $1}' InRelease)
    echo "$want  Packages.xz" | sha256sum -c --quiet
    xz -dc Packages.xz | awk -v RS= '/(^|\n)Package: docker-buildx\n/' > stanza
    local file sha; file=$(sed -n 's/^Filename: //p' stanza); sha=$(sed -n 's/^SHA256: //p' stanza)
    [ -n "$file" ] && [ -n "$sha" ]
    curl -fsS -m 600 -o buildx.deb "$archive/$file"
    echo "$sha  buildx.deb" | sha256sum -c --quiet
    dpkg-deb -x buildx.deb root
    mkdir -p "$dir"
    cp root/usr/libexec/docker/cli-plugins/docker-buildx "$dir/docker-buildx"
    sed -n 's/^Version: //p' stanza > "$dir/VERSION"
  ) || { rm -rf "$tmp"; echo "ensure_buildx: could not fetch docker-buildx from $archive ($suite)" >&2; return 1; }
  rm -rf "$tmp"
  BUILDX="$dir/docker-buildx"
}

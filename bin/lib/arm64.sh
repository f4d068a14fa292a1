# For the arm64 build test (tests/buildkit.rs): this x86_64 machine runs arm64
# programs under emulation, and has an arm64 base image, made here since nothing
# can be pulled.
#  - ensure_arm64_emulation: Debian's qemu-user-static, binfmt_misc mounted (as
#    root), and the aarch64 handler registered from the package's own binfmt.d
#    line, whose F flag opens the interpreter once, so it works inside containers.
#  - ensure_arm64_base_image: busybox from Debian bookworm's busybox-static for
#    arm64 (InRelease checked with gpgv against the archive keyring, Packages.xz and
#    the .deb by SHA256), a root and a nonroot user, loaded with `docker load` as a
#    linux/arm64 image (bin/lib/image_tar.py).
# prepare_arm64 exports CRUDDUR_ARM64_BASE_IMAGE when both are ready; otherwise it
# says why, and the arm64 test fails naming what is missing.
# shellcheck shell=bash
ARM64_BASE_IMAGE=cruddur-local/base-arm64:1
AARCH64_BINFMT=/proc/sys/fs/binfmt_misc/qemu-aarch64

ensure_arm64_emulation() {
  if [ -f "$AARCH64_BINFMT" ] && grep -q '^enabled' "$AARCH64_BINFMT"; then return 0; fi
  if [ ! -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    say "installing qemu-user-static (Debian), to build and run arm64 images under emulation"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null || return 1
  fi
  if [ ! -f /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || return 1
  fi
  [ -f "$AARCH64_BINFMT" ] || cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register || return 1
  grep -q '^enabled' "$AARCH64_BINFMT"
}

# debian_deb ARCH PACKAGE DEST: PACKAGE's .deb for ARCH from bookworm, checked.
debian_deb() {
  local arch=$1 package=$2 dest=$3 tmp; tmp=$(mktemp -d)
  (
    set -euo pipefail
    cd "$tmp"
    curl -fsS -m 60 -o InRelease "$DEBIAN_MIRROR/dists/$DEBIAN_SUITE/InRelease"
    gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg InRelease 2>/dev/null
    local index="main/binary-$arch/Packages.xz"
    curl -fsS -m 300 -o Packages.xz "$DEBIAN_MIRROR/dists/$DEBIAN_SUITE/$index"
    local want; want=$(awk -v f="$index" '/^SHA256:/{s=1;next} /^[A-Za-z]/{s=0} s && $3==f{print $1}' InRelease)
    echo "$want  Packages.xz" | sha256sum -c --quiet
    xz -dc Packages.xz | awk -v RS= -v p="Package: $package" 'index($0, p "\n") == 1' > stanza
    local file sha; file=$(sed -n 's/^Filename: //p' stanza); sha=$(sed -n 's/^SHA256: //p' stanza)
    [ -n "$file" ] && [ -n "$sha" ]
    curl -fsS -m 300 -o package.deb "$DEBIAN_MIRROR/$file"
    echo "$sha  package.deb" | sha256sum -c --quiet
    mv package.deb "$dest"
  )
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

ensure_arm64_base_image() {
  if docker image inspect "$ARM64_BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  say "creating the local arm64 base image $ARM64_BASE_IMAGE (Debian's busybox-static for arm64)"
  local work; work=$(mktemp -d /tmp/cruddur-arm64.XXXXXX)
  debian_deb arm64 busybox-static "$work/busybox.deb" || { rm -rf "$work"; return 1; }
  dpkg-deb -x "$work/busybox.deb" "$work/deb"
  local root=$work/root applet
  mkdir -p "$root"/{bin,etc,tmp,home/nonroot,usr/local/bin}
  chmod 1777 "$root/tmp"
  cp "$work/deb/bin/busybox" "$root/bin/busybox"
  # The applet list of the host's busybox (the same version): the arm64 one cannot
  # list its own without emulation.
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:10001:10001:nonroot:/home/nonroot:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:10001:\n' > "$root/etc/group"
  chown 10001:10001 "$root/home/nonroot"
  tar -C "$root" --numeric-owner -cf "$work/layer.tar" .
  python3 "$ROOT/bin/lib/image_tar.py" "$work/layer.tar" arm64 "$ARM64_BASE_IMAGE" | docker load >/dev/null
  local rc=$?
  rm -rf "$work"
  return $rc
}

prepare_arm64() {
  if ensure_arm64_emulation && ensure_arm64_base_image; then
    export CRUDDUR_ARM64_BASE_IMAGE=$ARM64_BASE_IMAGE
  else
    say "arm64 emulation or base image not ready: the arm64 build test will fail and say so"
  fi
}

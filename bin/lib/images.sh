# Local stand-ins for what this machine cannot pull, for the image tests and demos:
#  - a base image (busybox + the host's glibc) that serves as both BUILDER_IMAGE and
#    RUNTIME_IMAGE of the Dockerfiles: `docker import` of a rootfs made here;
#  - host-built service binaries in .cruddur/prebuilt, for the Dockerfiles' PREBUILT_DIR;
#  - for the real in-container build: a Rust builder image standing in for
#    rust:1.95-slim-bookworm and a runtime image standing in for distroless
#    cc-debian12, both from the same Debian bookworm packages (mmdebstrap);
#  - Debian's docker-registry, standing in for ECR.
# shellcheck shell=bash
BASE_IMAGE=cruddur-local/base:1
PREBUILT_DIR=.cruddur/prebuilt

ensure_image_tools() {
  local missing=()
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The package starts a registry on :5000 as a system service; the tests run their own.
  if command -v systemctl >/dev/null; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
}

# prepare_prebuilt: the service binaries, built on the host and stripped.
prepare_prebuilt() {
  say "building the service binaries for the images (PREBUILT_DIR)"
  # The same build as the tests (cargo test also builds the bins), so nothing is built twice.
  cargo test -q --workspace --no-run
  mkdir -p "$ROOT/$PREBUILT_DIR"
  local bin
  for bin in app health-check frontend-server; do
    strip -o "$ROOT/$PREBUILT_DIR/$bin.tmp" "$ROOT/target/debug/$bin"
    # Replace only on change, so an unchanged binary keeps the build inputs' hash.
    if cmp -s "$ROOT/$PREBUILT_DIR/$bin.tmp" "$ROOT/$PREBUILT_DIR/$bin"; then rm "$ROOT/$PREBUILT_DIR/$bin.tmp";
    else mv "$ROOT/$PREBUILT_DIR/$bin.tmp" "$ROOT/$PREBUILT_DIR/$bin"; fi
  done
}

# ensure_base_image: busybox, the shared libraries the binaries need, a nonroot user.
ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return; fi
  say "creating the local base image $BASE_IMAGE (docker import of a busybox + glibc rootfs)"
  local rootfs; rootfs=$(mktemp -d /tmp/cruddur-rootfs.XXXXXX)
  mkdir -p "$rootfs"/{bin,etc,tmp,usr/local/bin,srv/www,home/nonroot}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  local lib
  for lib in $(ldd "$ROOT/$PREBUILT_DIR"/* | grep -v ':$' | grep -o '/[^ ]*' | sort -u); do
    cp --parents -L "$lib" "$rootfs/"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:10001:10001:nonroot:/home/nonroot:/bin/sh\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:10001:\n' > "$rootfs/etc/group"
  chown 10001:10001 "$rootfs/home/nonroot"
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# The real path's base images. The tags carry a content version: bump
# LOCAL_IMAGES_REV when what goes into them changes; an existing tag is reused.
LOCAL_IMAGES_REV=1
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=http://deb.debian.org/debian
# What rust:1.95-slim-bookworm has beyond minbase (gcc, libc6-dev, ca-certificates),
# and busybox-static, which the Dockerfiles copy into the runtime images (a shell for
# `cruddur connect`; distroless has none). The real rust image installs it with apt.
BUILDER_PACKAGES=gcc,libc6-dev,ca-certificates,busybox-static
# What gcr.io/distroless/cc-debian12 holds: glibc, libgcc, libssl3, CA certificates,
# time zones, netbase; no shell, no package manager.
RUNTIME_PACKAGES=base-files,netbase,tzdata,libc6,libgcc-s1,libgomp1,libstdc++6,libssl3

rust_toolchain_dir() { rustc --print sysroot; }

builder_image_name() {
  local version; version=$(rustc --version | awk '{print $2}')
  echo "cruddur-local/rust:$version-slim-$DEBIAN_SUITE-r$LOCAL_IMAGES_REV"
}
RUNTIME_BASE_IMAGE=cruddur-local/cc-debian12:r$LOCAL_IMAGES_REV

# ensure_builder_image: a bookworm minbase rootfs with gcc, plus this machine's Rust
# toolchain (rustc, cargo, the std of the host target, rust-lld; no docs, no sources).
ensure_builder_image() {
  BUILDER_IMAGE=$(builder_image_name)
  if docker image inspect "$BUILDER_IMAGE" >/dev/null 2>&1; then return; fi
  say "creating the local builder image $BUILDER_IMAGE (mmdebstrap $DEBIAN_SUITE minbase + the host's Rust toolchain)"
  local rootfs; rootfs=$(mktemp -d /tmp/cruddur-builder.XXXXXX)
  mmdebstrap --quiet --variant=minbase --include="$BUILDER_PACKAGES" --aptopt='Apt::Install-Recommends "false"' \
    "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >/dev/null || return 1
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc "$rootfs"/usr/share/man
  local tc target
  tc=$(rust_toolchain_dir)
  target=$(rustc -vV | sed -n 's/^host: //p')
  [ -x "$tc/bin/rustc" ] && [ -x "$tc/bin/cargo" ] || { echo "no Rust toolchain at $tc" >&2; return 1; }
  mkdir -p "$rootfs/usr/local/rust/bin" "$rootfs/usr/local/rust/lib/rustlib" "$rootfs/usr/local/cargo"
  cp -p "$tc/bin/rustc" "$tc/bin/cargo" "$rootfs/usr/local/rust/bin/"
  cp -p "$tc"/lib/*.so* "$rootfs/usr/local/rust/lib/"
  cp -a "$tc/lib/rustlib/$target" "$rootfs/usr/local/rust/lib/rustlib/" || return 1
  rm -rf "$rootfs/usr/local/rust/lib/rustlib/$target/bin/wasm-component-ld"
  # cargo trusts what this machine trusts: here crates.io is reached through a
  # TLS-intercepting egress proxy whose CA only the host's bundle holds (with
  # Debian's stock bundle the index fetch fails: "self-signed certificate in
  # certificate chain"). The stock bundle stays as it is for everything else.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/local/cargo/host-ca-certificates.crt"
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HTTP_CAINFO=/usr/local/cargo/host-ca-certificates.crt' \
    --change 'WORKDIR /' --change 'CMD ["/bin/bash"]' - "$BUILDER_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# ensure_runtime_image: what distroless cc-debian12 is, from the same bookworm
# packages as the builder (so glibc matches): the packages' files, the CA bundle,
# /etc/passwd with root and nonroot (10001), /tmp; no shell.
ensure_runtime_image() {
  if docker image inspect "$RUNTIME_BASE_IMAGE" >/dev/null 2>&1; then return; fi
  ensure_builder_image
  say "creating the local runtime image $RUNTIME_BASE_IMAGE (bookworm packages: ${RUNTIME_PACKAGES//,/ })"
  local rootfs; rootfs=$(mktemp -d /tmp/cruddur-runtime.XXXXXX)
  mmdebstrap --quiet --variant=extract --include="$RUNTIME_PACKAGES" "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >/dev/null || return 1
  rm -rf "$rootfs"/var/cache/apt "$rootfs"/var/lib/apt "$rootfs"/var/lib/dpkg "$rootfs"/etc/apt \
    "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/lintian "$rootfs"/usr/share/locale
  # Neither a shell nor the utilities: what distroless leaves out.
  rm -rf "$rootfs"/bin/* "$rootfs"/usr/bin/* "$rootfs"/sbin/* "$rootfs"/usr/sbin/*
  mkdir -p "$rootfs"/{tmp,home/nonroot,etc/ssl/certs}
  chmod 1777 "$rootfs/tmp"
  docker run --rm --entrypoint cat "$BUILDER_IMAGE" /etc/ssl/certs/ca-certificates.crt > "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:10001:10001:nonroot:/home/nonroot:/sbin/nologin\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:10001:\n' > "$rootfs/etc/group"
  chown 10001:10001 "$rootfs/home/nonroot"
  tar -C "$rootfs" -c . | docker import --change 'USER 10001:10001' --change 'WORKDIR /home/nonroot' - "$RUNTIME_BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# Environment that points cruddur.toml's build args at the local stand-ins.
image_env() {
  export CRUDDUR_BUILDER_IMAGE=$BASE_IMAGE CRUDDUR_RUNTIME_IMAGE=$BASE_IMAGE CRUDDUR_PREBUILT_DIR=$PREBUILT_DIR
}

prepare_images() {
  ensure_image_tools
  prepare_prebuilt
  ensure_base_image
  image_env
}

# prepare_real_images: the real path's builder and runtime images, named for
# tests/image_build.rs (after prepare_images, which installs mmdebstrap).
prepare_real_images() {
  ensure_builder_image
  ensure_runtime_image
  export CRUDDUR_REAL_BUILDER_IMAGE=$BUILDER_IMAGE CRUDDUR_REAL_RUNTIME_IMAGE=$RUNTIME_BASE_IMAGE
}

# start_registry: Debian's docker-registry on a free loopback port; sets REGISTRY.
start_registry() {
  REGISTRY_DIR=$(mktemp -d /tmp/cruddur-registry.XXXXXX)
  local port; port=$(free_port)
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$REGISTRY_DIR" "$port" > "$REGISTRY_DIR/config.yml"
  docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY="127.0.0.1:$port"
  wait_for_port "$port" docker-registry
  # Whatever answered must be our registry, still running (not one that lost the port).
  kill -0 "$REGISTRY_PID" 2>/dev/null || { echo "docker-registry exited:" >&2; tail -n 20 "$REGISTRY_DIR/log" >&2; exit 1; }
}

stop_registry() {
  if [ -n "${REGISTRY_PID:-}" ]; then kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null || true; fi
  [ -n "${REGISTRY_DIR:-}" ] && rm -rf "$REGISTRY_DIR"
  return 0
}

# The book under docs/ (an mdBook): the pinned mdbook, built from crates.io into
# .cache/mdbook (no default features: no `serve`/`watch`, no search index), once.
# tests/docs.rs builds the book with it and checks every internal link.
# shellcheck shell=bash
MDBOOK_VERSION=0.4.52
MDBOOK=$ROOT/.cache/mdbook/bin/mdbook

ensure_mdbook() {
  if [ -x "$MDBOOK" ] && "$MDBOOK" --version 2>/dev/null | grep -qx "mdbook v$MDBOOK_VERSION"; then
    return
  fi
  say "installing mdbook $MDBOOK_VERSION into .cache/mdbook (for the book under docs/)"
  # Its own target dir: mdbook's features must not change the workspace's build.
  CARGO_TARGET_DIR=$ROOT/.cache/mdbook/target cargo install mdbook --version "$MDBOOK_VERSION" --locked \
    --no-default-features --root "$ROOT/.cache/mdbook" --quiet
  rm -rf "$ROOT/.cache/mdbook/target"
}

# The browser end-to-end tests' setup: Debian's chromium and chromium-driver.
# shellcheck shell=bash

# ensure_browser: installs chromium and chromium-driver when missing; exports
# CRUDDUR_CHROMIUM and CRUDDUR_CHROMEDRIVER for frontend/tests/browser.rs.
ensure_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "installing chromium and chromium-driver (Debian packages) for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
  fi
  CRUDDUR_CHROMIUM=$(command -v chromium)
  CRUDDUR_CHROMEDRIVER=$(command -v chromedriver)
  export CRUDDUR_CHROMIUM CRUDDUR_CHROMEDRIVER
}

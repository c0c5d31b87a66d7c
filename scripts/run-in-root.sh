#!/bin/sh
# Runs PROGRAM [ARGS...] inside the Debian root beside this script (its
# `root/` folder, made by scripts/setup.sh with debootstrap), as if it were
# installed on this machine: the process keeps its pid (so a caller can
# signal it), its environment, this machine's network and the current
# directory, and sees this machine's /tmp, $HOME, /work, /proc, /dev, /sys
# and /etc/hosts at their own paths. The bind mounts live in a private mount
# namespace that ends with the program; nothing is left mounted.
#
# scripts/setup.sh copies this file to ~/.cache/cnode-otp/RELEASE/run-in-root
# and writes bin/erl, bin/erlc, bin/epmd, ... there that call it.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 PROGRAM [ARGS...]" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")" && pwd)/root"
if [ ! -x "$root/bin/sh" ]; then
    echo "$0: no Debian root at $root (run scripts/setup.sh)" >&2
    exit 2
fi
exec unshare --mount --propagation private -- /bin/sh -eu -c '
root=$1; cwd=$2; shift 2
bound=""
for dir in "${HOME:-}" /work /tmp "${TMPDIR:-}" "$cwd"; do
    case "$dir" in "" | /) continue ;; esac
    [ -d "$dir" ] || continue
    # A folder under one already bound is visible through it.
    inside=no
    for done in $bound; do
        case "$dir/" in "$done"/*) inside=yes ;; esac
    done
    [ "$inside" = no ] || continue
    mkdir -p "$root$dir"
    mount --bind "$dir" "$root$dir"
    bound="$bound $dir"
done
for dir in /proc /dev /sys; do
    mount --rbind "$dir" "$root$dir"
done
[ -e "$root/etc/hosts" ] || : >"$root/etc/hosts"
mount --bind /etc/hosts "$root/etc/hosts"
exec chroot "$root" /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cwd" "$@"
' run-in-root "$root" "$(pwd)" "$@"

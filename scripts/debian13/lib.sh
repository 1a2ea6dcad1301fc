# shellcheck shell=bash
# Shared by scripts/debian13/root and scripts/debian13/test (sourced): mounting
# the kernel file systems into a root and undoing every mount, and removing a root
# only when nothing is mounted under it.
#
# Every mount is recorded in MOUNTS; `unmount_all` undoes them in reverse order
# (lazily if a mount is busy) and then checks with findmnt that nothing is left
# under the root. Callers set `trap unmount_all EXIT` before mounting anything.

MOUNTS=()

say() {
    echo "==> debian13: $*" >&2
}

die() {
    echo "debian13: $*" >&2
    exit 1
}

# Mount points under DIR (DIR included), deepest first.
mounts_under() {
    local dir
    dir="$(realpath -m "$1")"
    findmnt -rn -o TARGET | awk -v d="$dir" '$0 == d || index($0, d "/") == 1' | sort -r
}

# mount_into ROOT SUBDIR ARGS...: `mount ARGS... ROOT/SUBDIR`, recorded.
mount_into() {
    local root="$1" sub="$2"
    shift 2
    mkdir -p "$root/$sub"
    mount "$@" "$root/$sub"
    MOUNTS+=("$root/$sub")
}

# The kernel file systems a chroot needs for apt, PHP, PostgreSQL and cargo.
mount_kernel_fs() {
    local root="$1"
    mount_into "$root" proc -t proc proc
    mount_into "$root" dev --bind /dev
    mount_into "$root" dev/pts --bind /dev/pts
    # PostgreSQL's dynamic shared memory: a private tmpfs, not the host's /dev/shm.
    mount_into "$root" dev/shm -t tmpfs -o mode=1777,size=512m tmpfs
}

# Ends the processes still running inside ROOT (a sandbox or a server a failed
# test left), by pid: those whose root directory is ROOT.
kill_inside() {
    local root link pid
    root="$(realpath "$1")"
    for link in /proc/[0-9]*/root; do
        if [ "$(readlink "$link" 2>/dev/null)" = "$root" ]; then
            pid="${link#/proc/}"
            kill -TERM "${pid%/root}" 2>/dev/null || true
        fi
    done
}

unmount_all() {
    local i target status=0
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        target="${MOUNTS[$i]}"
        if findmnt -rn "$target" >/dev/null 2>&1; then
            umount "$target" 2>/dev/null || umount -l "$target" || status=1
        fi
    done
    MOUNTS=()
    return "$status"
}

# Removes DIR, refusing when anything is mounted under it (never delete through a
# mount); --one-file-system as a second guard.
remove_root() {
    local dir="$1" left
    [ -e "$dir" ] || return 0
    left="$(mounts_under "$dir")"
    if [ -n "$left" ]; then
        die "not removing $dir: still mounted under it: $(echo "$left" | tr '\n' ' ')(unmount them first)"
    fi
    rm -rf --one-file-system "$dir"
}

# The host's CA bundle and resolver into ROOT (outgoing HTTPS may be intercepted
# by a proxy whose CA only the host's bundle has: apt, cargo and PHP trust it).
copy_host_network_config() {
    local root="$1"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    mkdir -p "$root/etc/ssl/certs"
    cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
}

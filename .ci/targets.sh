#!/usr/bin/env bash
# Runs memseg's whole test suite (`cargo test --no-fail-fast --target T`: unit, integration
# and doc tests, so tests added later are included automatically) on:
#
#   x86_64-unknown-linux-gnu    natively
#   x86_64-unknown-linux-musl   natively (rustc's self-contained musl crt);
#                               ABI test compiled with musl-gcc
#   i686-unknown-linux-gnu      natively (32-bit glibc: mmap64, fcntl64,
#                               posix_fallocate64); ABI test with gcc -m32
#   aarch64-unknown-linux-gnu   under qemu-user, linked and ABI-checked with
#                               Debian's aarch64 cross compiler
#   i686-unknown-linux-musl     natively (32-bit musl, rustc's self-contained
#                               crt); Debian has no 32-bit musl C toolchain,
#                               so the ABI test is skipped there (parity with
#                               the libc crate covers it; x86_64 musl runs it)
#   armv7-unknown-linux-gnueabihf  the ABI test only, under qemu-arm, with
#                               Debian's armhf cross compiler (32-bit glibc on
#                               arm: fcntl64, mmap64, posix_fallocate64)
#
# Installs what it needs, idempotently (Debian 12, as root):
# - apt: musl-tools, gcc-12-multilib (32-bit crt, libgcc and glibc headers),
#   gcc-12-aarch64-linux-gnu + libc6-dev-arm64-cross, qemu-user(-binfmt),
#   strace (tests/security.rs proves with it that bad names reach no
#   system call).
#   Debian's `gcc-multilib` meta package conflicts with every gcc cross
#   compiler, so it is not used: `gcc-12-multilib` alone provides `gcc -m32`;
#   the one thing the meta package adds is the /usr/include/asm symlink,
#   which the i686 ABI test gets from a private include directory instead.
# - binfmt_misc registration of qemu-aarch64, so that tests which re-run
#   their own binary as a child process (fork-free cross-process tests) can
#   exec an aarch64 binary from inside qemu. QEMU_LD_PREFIX tells qemu where
#   the aarch64 loader and libc are.
#
# Environment: MEMSEG_TARGETS (space-separated subset of the four above),
# CARGO_TARGET_DIR (default target/ of the repo; each target builds into its
# own triple subdirectory of it).
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

TARGETS=${MEMSEG_TARGETS:-"x86_64-unknown-linux-gnu x86_64-unknown-linux-musl i686-unknown-linux-gnu i686-unknown-linux-musl aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf"}
AARCH64_SYSROOT=/usr/aarch64-linux-gnu
AARCH64_CC=aarch64-linux-gnu-gcc-12
ARMHF_SYSROOT=/usr/arm-linux-gnueabihf
ARMHF_CC=arm-linux-gnueabihf-gcc-12
start=$SECONDS

log() { printf '[targets %4ss] %s\n' "$((SECONDS - start))" "$*"; }

# ---------------------------------------------------------------- install
need=()
for pkg in musl-tools gcc-12-multilib gcc-12-aarch64-linux-gnu libc6-dev-arm64-cross \
           gcc-12-arm-linux-gnueabihf libc6-dev-armhf-cross \
           qemu-user qemu-user-binfmt strace; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
for t in $TARGETS; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done

# qemu-aarch64 as the kernel's interpreter for aarch64 ELF files.
if [[ " $TARGETS " == *" aarch64-unknown-linux-gnu "* ]]; then
    binfmt=/proc/sys/fs/binfmt_misc
    if [ ! -e "$binfmt/register" ]; then
        mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || log "cannot mount binfmt_misc"
    fi
    if [ -e "$binfmt/register" ] && [ ! -e "$binfmt/qemu-aarch64" ]; then
        grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf > "$binfmt/register" \
            || log "cannot register qemu-aarch64 with binfmt_misc"
    fi
    if [ ! -e "$binfmt/qemu-aarch64" ]; then
        log "WARNING: no binfmt_misc entry for aarch64: tests that re-run their own binary will fail"
    fi
fi

# Private include directories:
# - for `gcc -m32` without the gcc-multilib meta package, only the asm/ link
#   that package would add (x86's uapi asm headers serve both widths);
# - for musl-gcc, the kernel's uapi headers (linux/, asm/, asm-generic/),
#   which musl does not ship (Alpine's linux-headers package does the same),
#   searched after musl's own, so constants musl 1.2.3 lacks
#   (MADV_POPULATE_*, MAP_HUGE_SHIFT, MFD_HUGE_SHIFT) come from the kernel.
inc=$(mktemp -d)
trap 'rm -rf "$inc"' EXIT
mkdir -p "$inc/i686" "$inc/musl"
ln -s /usr/include/x86_64-linux-gnu/asm "$inc/i686/asm"
ln -s /usr/include/linux "$inc/musl/linux"
ln -s /usr/include/asm-generic "$inc/musl/asm-generic"
ln -s /usr/include/x86_64-linux-gnu/asm "$inc/musl/asm"

# Tests that cannot pass under qemu-user, because qemu emulates the call
# instead of passing it to the kernel (each is run natively on the three
# x86 targets). docs/verification.md lists them with the evidence.
AARCH64_QEMU_SKIP=(
    # madvise: qemu 7.2 forwards only MADV_DONTNEED and answers 0 for the
    # rest without doing it (no VM_* flags, no hole punch, no populate).
    advice_shows_in_vm_flags
    transparent_huge_page_advice_marks_the_range
    dontneed_keeps_shared_pages_and_remove_punches_a_hole
    populate_write_on_a_read_only_mapping_is_einval
    populate_at_map_time_and_on_demand_makes_pages_resident
    wipe_on_fork_zeroes_the_childs_copy
    # mmap flags qemu checks itself or drops: MAP_HUGETLB (EINVAL instead of
    # the kernel's ENOMEM), MAP_FIXED_NOREPLACE alignment (EEXIST instead of
    # EINVAL), MAP_SYNC validation (EINVAL instead of EOPNOTSUPP),
    # MAP_NORESERVE/MAP_STACK not visible in qemu's emulated smaps.
    huge_page_memfd
    explicit_huge_pages_map_or_fail_with_enomem
    "src/huge.rs - huge::HugePageSize "
    fixed_noreplace_never_replaces
    map_sync_is_validated
    no_reserve_and_stack_flags_reach_the_kernel
    # qemu keeps guest-executable pages non-executable on the host, so
    # /proc/self/maps shows r--p; and it has no mlock2 (ENOSYS).
    into_read_exec_makes_the_pages_executable
    lock_on_fault_locks_pages_as_they_are_touched
)

# ------------------------------------------------------------------- run
declare -A status seconds
for t in $TARGETS; do
    env_=(MEMSEG_REQUIRE_CC=1)
    case $t in
        x86_64-unknown-linux-gnu) ;;
        x86_64-unknown-linux-musl) env_+=("MEMSEG_ABI_CC=musl-gcc -idirafter $inc/musl") ;;
        i686-unknown-linux-gnu) env_+=("MEMSEG_ABI_CC=gcc -m32 -isystem $inc/i686") ;;
        i686-unknown-linux-musl)
            # No 32-bit musl C compiler on Debian: name one that does not
            # exist and drop MEMSEG_REQUIRE_CC, so the ABI test says it
            # skipped instead of comparing with the host's 64-bit glibc.
            env_=("MEMSEG_ABI_CC=no-i686-musl-cc-on-debian")
            ;;
        armv7-unknown-linux-gnueabihf)
            env_+=(
                "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=$ARMHF_CC"
                "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER=qemu-arm -L $ARMHF_SYSROOT"
                "MEMSEG_ABI_CC=$ARMHF_CC"
                "MEMSEG_ABI_RUNNER=qemu-arm -L $ARMHF_SYSROOT"
            )
            ;;
        aarch64-unknown-linux-gnu)
            env_+=(
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$AARCH64_CC"
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64 -L $AARCH64_SYSROOT"
                "QEMU_LD_PREFIX=$AARCH64_SYSROOT"
                "MEMSEG_ABI_CC=$AARCH64_CC"
                "MEMSEG_ABI_RUNNER=qemu-aarch64 -L $AARCH64_SYSROOT"
            )
            ;;
        *) log "unknown target $t"; status[$t]=unknown; continue ;;
    esac
    args=()
    only=()
    # armv7: the ABI test alone (the whole suite runs on i686 for 32-bit).
    if [ "$t" = armv7-unknown-linux-gnueabihf ]; then only=(--test abi); fi
    if [ "$t" = aarch64-unknown-linux-gnu ]; then
        for name in "${AARCH64_QEMU_SKIP[@]}"; do args+=(--skip "$name"); done
    fi
    log "cargo test --no-fail-fast --target $t${args:+ -- (${#AARCH64_QEMU_SKIP[@]} tests skipped under qemu-user)}"
    t0=$SECONDS
    env "${env_[@]}" cargo test --no-fail-fast --target "$t" "${only[@]}" -- "${args[@]}" 2>&1 | tee "/tmp/memseg-targets-$t.log" \
        | grep -E '^(test result|     Running|   Doc-tests|failures:|    [a-z_:]+$|error)'
    rc=${PIPESTATUS[0]}
    seconds[$t]=$((SECONDS - t0))
    passed=$(grep -o 'test result: ok\. [0-9]* passed' "/tmp/memseg-targets-$t.log" | awk '{s+=$4} END {print s+0}')
    ignored=$(grep -o '[0-9]* ignored' "/tmp/memseg-targets-$t.log" | awk '{s+=$1} END {print s+0}')
    filtered=$(grep -o '[0-9]* filtered out' "/tmp/memseg-targets-$t.log" | awk '{s+=$1} END {print s+0}')
    if [ "$rc" -eq 0 ]; then
        status[$t]="ok ($passed passed, $ignored ignored, $filtered skipped)"
    else
        status[$t]="FAILED (exit $rc; log /tmp/memseg-targets-$t.log)"
    fi
    log "$t: ${status[$t]} in ${seconds[$t]}s"
done

echo
echo "targets summary (total $((SECONDS - start))s):"
failed=0
for t in $TARGETS; do
    printf '  %-28s %s, %ss\n' "$t" "${status[$t]}" "${seconds[$t]:-0}"
    [[ ${status[$t]} == ok* ]] || failed=1
done
exit $failed

#!/usr/bin/env bash
# Compile-time parity of memseg::sys with the libc crate on every supported
# target (tests/parity), plus its host test (every declared item is checked).
#
# For each target: `rustup target add` (a no-op when installed), then
# `cargo check --target T` in tests/parity. Where no std can be downloaded
# for stable (the musl variants of armv7, riscv64, powerpc64le, s390x), the
# check runs on nightly with `-Zbuild-std` instead, or is skipped with the
# reason if nightly's rust-src is not installed.
#
# Prints one line per target and a closing `parity: N passed, N failed,
# N skipped`; exits non-zero if any check failed.
#
# Environment: PARITY_TARGETS (space separated) overrides the target list.

set -u

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/tests/parity" || exit 1
# One target dir for every target, outside tests/ so that build artefacts
# never show up in .ci/run's source greps (memseg's own /target is ignored).
export CARGO_TARGET_DIR="$here/target/parity"
log_dir="$CARGO_TARGET_DIR/parity-logs"
mkdir -p "$log_dir"

# Every target build.rs classifies as supported (memseg_linux, memseg_apple,
# memseg_freebsd).
default_targets="
x86_64-unknown-linux-gnu
x86_64-unknown-linux-musl
i686-unknown-linux-gnu
i686-unknown-linux-musl
aarch64-unknown-linux-gnu
aarch64-unknown-linux-musl
armv7-unknown-linux-gnueabihf
armv7-unknown-linux-musleabihf
riscv64gc-unknown-linux-gnu
riscv64gc-unknown-linux-musl
powerpc64le-unknown-linux-gnu
powerpc64le-unknown-linux-musl
s390x-unknown-linux-gnu
s390x-unknown-linux-musl
x86_64-apple-darwin
aarch64-apple-darwin
x86_64-unknown-freebsd
"
targets=${PARITY_TARGETS:-$default_targets}

passed=0
failed=0
skipped=0

# Whether nightly with rust-src (for -Zbuild-std) is available; checked once.
nightly_src=unknown
have_nightly_src() {
    if [ "$nightly_src" = unknown ]; then
        if rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
            nightly_src=yes
        else
            nightly_src=no
        fi
    fi
    [ "$nightly_src" = yes ]
}

# report NAME RESULT DETAIL LOG
report() {
    printf '%-34s %-4s %s\n' "$1" "$2" "$3"
    case $2 in
        ok) passed=$((passed + 1)) ;;
        skip) skipped=$((skipped + 1)) ;;
        *)
            failed=$((failed + 1))
            if [ -n "${4:-}" ]; then
                grep -E '^(error|warning)|^ *(-->|= note)' "$4" | head -40 | sed 's/^/    /'
                echo "    (full log: $4)"
            fi
            ;;
    esac
}

for t in $targets; do
    log="$log_dir/$t.log"
    start=$(date +%s)
    if rustup target add "$t" >"$log" 2>&1; then
        how="stable"
        cargo check --locked --target "$t" >>"$log" 2>&1
        rc=$?
    elif have_nightly_src; then
        how="nightly -Zbuild-std (no stable std for this target)"
        cargo +nightly check --locked -Zbuild-std=std,core --target "$t" >>"$log" 2>&1
        rc=$?
    else
        report "$t" skip "no std to download and no nightly rust-src for -Zbuild-std"
        continue
    fi
    secs=$(($(date +%s) - start))
    if [ $rc -eq 0 ]; then
        report "$t" ok "($how, ${secs}s)"
    else
        report "$t" FAIL "($how, ${secs}s)" "$log"
    fi
done

# The host test: every item memseg::sys declares is in the parity lists.
log="$log_dir/host-test.log"
start=$(date +%s)
if cargo test --locked >"$log" 2>&1; then
    report "host: cargo test" ok "($(($(date +%s) - start))s)"
else
    report "host: cargo test" FAIL "($(($(date +%s) - start))s)" "$log"
    grep -A8 'panicked' "$log" | sed 's/^/    /'
fi

echo "parity: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# memseg's whole test suite (unit, integration and doc tests) under
# AddressSanitizer (and LeakSanitizer, which ASan enables on x86_64 Linux).
#
#   RUSTFLAGS=-Zsanitizer=address cargo +nightly test -Zbuild-std \
#       --target x86_64-unknown-linux-gnu
#
# -Zbuild-std rebuilds the standard library with the sanitizer too, so
# memory that std allocates and memseg hands back (and the other way round)
# is tracked on both sides and ASan reports no false positives from an
# uninstrumented std. Installs nightly's rust-src idempotently.
#
# Notes:
# - Tests that re-run their own binary as a child inherit ASan; the SIGBUS
#   test (tests/faults.rs) asks its children for ASAN_OPTIONS=handle_sigbus=0,
#   because ASan would otherwise turn the expected SIGBUS into a report and
#   exit code 1.
# - The ABI test's generated C program is compiled by the system cc
#   without ASan; only the Rust side is instrumented.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
start=$SECONDS
target=x86_64-unknown-linux-gnu

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component list --toolchain nightly --installed | grep -q '^rust-src' \
    || rustup component add --toolchain nightly rust-src

# A separate target directory: sanitizer builds must never mix with the
# normal ones.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/asan"
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
# LeakSanitizer on. SIGSEGV and SIGBUS are left to the program: several
# tests expect a child to die of exactly that signal (a store into a
# read-only mapping, a touch past a truncated file), which ASan's handlers
# would turn into a report and exit code 1. A wild access still kills the
# test; ASan's shadow checks, which are the point here, are unaffected.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:handle_segv=0:handle_sigbus=0"
export MEMSEG_REQUIRE_CC=1

# Tests that cannot pass under ASan, with the reason (each runs in every
# other job):
SKIP=(
    # ASan intercepts mlock/munlock/mlockall/munlockall and makes them
    # no-ops ("AddressSanitizer ignores mlock/mlockall/munlock/munlockall"),
    # so nothing is ever locked.
    lock_and_unlock_whole_and_ranges
    lock_all_covers_future_mappings_until_unlock_all
    lock_on_fault_locks_pages_as_they_are_touched
    locked_flag_locks_at_map_time
    # Counts every line of /proc/self/maps, and ASan's allocator adds and
    # splits private anonymous mappings of its own as it goes.
    ten_thousand_cycles_leak_nothing
)
skip_args=()
for name in "${SKIP[@]}"; do skip_args+=(--skip "$name"); done

log=$(mktemp)
set +e
cargo +nightly test -Zbuild-std --no-fail-fast --target "$target" -- "${skip_args[@]}" 2>&1 | tee "$log" \
    | grep -E '^(test result|     Running|   Doc-tests|failures:|    [a-z_:]+$|error|==[0-9]+==|SUMMARY)'
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -o 'test result: ok\. [0-9]* passed' "$log" | awk '{s+=$4} END {print s+0}')
reports=$(grep -c 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer' "$log" || true)
echo "asan: exit $rc, $passed tests passed, $reports sanitizer reports, $((SECONDS - start))s (log: $log)"
[ "$rc" -eq 0 ] && [ "$reports" -eq 0 ]

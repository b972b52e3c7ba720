#!/usr/bin/env bash
# The tests Miri can execute, under Miri: name rules, option builders and
# their refusals, flag sets, page and range arithmetic, and private
# anonymous mappings (the only mmap Miri implements: MAP_PRIVATE |
# MAP_ANONYMOUS, PROT_READ | PROT_WRITE, offset 0, whole-mapping munmap).
# Shared or file mappings, shm_open, memfd_create, msync, mremap, mlock and
# child processes are outside what Miri can run.
#
# Which tests: the list below, one line per test binary, each test named
# exactly. A name that no longer exists fails the run (so a rename cannot
# drop a test silently). docs/verification.md has the same list.
#
# Once every test Miri cannot execute carries #[cfg_attr(miri, ignore)],
# MEMSEG_MIRI_ALL=1 runs the whole suite instead:
#   cargo +nightly miri test --lib --tests
#
# -Zmiri-disable-isolation: a few tests create temporary files (an empty
# file maps to an empty buffer without mmap) and read the page size.
# Installs nightly's miri and rust-src idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
start=$SECONDS

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
for c in miri rust-src; do
    rustup component list --toolchain nightly --installed | grep -q "^$c" \
        || rustup component add --toolchain nightly "$c"
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/miri"
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
cargo +nightly miri setup >/dev/null 2>&1

if [ "${MEMSEG_MIRI_ALL:-0}" = 1 ]; then
    cargo +nightly miri test --lib --tests
    echo "miri: whole suite passed in $((SECONDS - start))s"
    exit 0
fi

# Test files whose every Miri-incapable test is marked
# #[cfg_attr(miri, ignore)]: run whole, so new tests there are included.
WHOLE=(faults lfs security stress)

# Other binaries (--lib or a tests/ file), followed by the tests of theirs
# that Miri can execute.
TESTS=(
    "--lib huge::tests::meminfo_line_is_parsed huge::tests::sizes_and_flags"
    "grow private_anonymous_grows_and_shrinks_keeping_contents"
    "mmap mmapfile_empty_file_is_empty_buffer_without_mmap mmapfile_of_a_device_needs_a_length length_smaller_than_t_is_rejected zero_length_is_rejected huge_anonymous_length_overflow_is_an_error zero_sized_types_are_rejected anonymous_mappings_have_no_offset_and_need_a_length offset_past_end_of_file_is_rejected"
    "shm names_are_normalised_to_a_leading_slash every_invalid_name_rule_is_refused_before_any_system_call lengths_past_off_t_are_refused_before_creating_anything options_rules_are_refused_before_any_system_call"
)

failed=0
total=0
whole_args=()
for t in "${WHOLE[@]}"; do whole_args+=(--test "$t"); done
echo "miri: whole files: ${WHOLE[*]}"
if out=$(cargo +nightly miri test "${whole_args[@]}" 2>&1); then
    grep -E '^test .* ok$' <<<"$out" | sed 's/^/  /'
    n=$(grep -o 'test result: ok\. [0-9]* passed' <<<"$out" | awk '{s+=$4} END {print s+0}')
    total=$((total + n))
else
    failed=1
    echo "$out" | grep -v '^\s*[0-9]*: \|^\s*at ' | tail -60 >&2
fi
for line in "${TESTS[@]}"; do
    read -r bin names <<<"$line"
    if [ "$bin" = --lib ]; then sel=(--lib); else sel=(--test "$bin"); fi
    want=$(wc -w <<<"$names")
    total=$((total + want))
    echo "miri: ${sel[*]}: $want tests"
    # shellcheck disable=SC2086 # the names are separate filters
    out=$(cargo +nightly miri test "${sel[@]}" -- --exact $names 2>&1) || true
    ran=$(grep -o 'test result: ok\. [0-9]* passed' <<<"$out" | awk '{print $4}')
    if [ "${ran:-0}" != "$want" ]; then
        failed=1
        echo "$out" | grep -v '^\s*[0-9]*: \|^\s*at ' | tail -40 >&2
        echo "miri: ${sel[*]}: expected $want tests to pass, ${ran:-0} did" >&2
    else
        grep -E '^test ' <<<"$out" | sed 's/^/  /'
    fi
done
echo "miri: $total tests listed, $([ $failed = 0 ] && echo 'all passed' || echo 'FAILURES'), $((SECONDS - start))s"
exit $failed

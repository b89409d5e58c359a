#!/usr/bin/env bash
# Assembles and links the conformance programs (tests/conformance/*.S, or the SOURCE files
# given) into OUT_DIR/NAME.elf with Debian's gcc-riscv64-unknown-elf, which scripts/test.sh
# installs. tests/conformance.rs calls this and runs every ELF under poie and qemu-riscv32.
# To look at one program by hand:
#   scripts/build-conformance.sh /tmp/c && qemu-riscv32 /tmp/c/add.elf; echo $?
# Exit status 0 is a pass, N the first failing check (see tests/conformance/harness.h).
# Usage: scripts/build-conformance.sh OUT_DIR [SOURCE.S...]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [SOURCE.S...]" >&2; exit 2; }
# Paths are taken relative to the caller's directory, before moving to the repository root.
out=$(realpath -m "$1")
shift
srcs=()
for s in "$@"; do srcs+=("$(realpath "$s")"); done
cd "$(dirname "$0")/.."
[ ${#srcs[@]} -gt 0 ] || srcs=(tests/conformance/*.S)
CC=riscv64-unknown-elf-gcc
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "$CC not found: install gcc-riscv64-unknown-elf (scripts/test.sh does)" >&2
    exit 1
fi
mkdir -p "$out"
# Plain RV32IM without the C extension, so that every instruction is the 32-bit encoding under
# test; no libc or start files: each program is its own _start. Assembler warnings are errors,
# so that a mistyped operand cannot silently become something else.
export CC out INC="$PWD/tests/conformance"
export FLAGS="-march=rv32im -mabi=ilp32 -static -nostdlib -Wl,--build-id=none -Wa,--fatal-warnings"
# One compiler per core; xargs exits non-zero if any of them fails.
# shellcheck disable=SC2016 # expanded by the inner shell
printf '%s\n' "${srcs[@]}" |
    xargs -P "$(nproc)" -I{} sh -c '$CC $FLAGS -I"$INC" -o "$out/$(basename "$1" .S).elf" "$1"' _ {}

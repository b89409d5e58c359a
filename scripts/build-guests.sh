#!/usr/bin/env bash
# Rebuilds the guest ELFs in guests/bin from guests/src with Debian's gcc-riscv64-unknown-elf.
# Usage: scripts/build-guests.sh [OUT_DIR]   (default guests/bin)
# Installs the cross-compiler with apt-get if it is missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-guests/bin}
CC=riscv64-unknown-elf-gcc
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "installing gcc-riscv64-unknown-elf" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-riscv64-unknown-elf >&2
fi
# Flags are part of the reproducibility contract: the test suite rebuilds with this script and
# compares bytes with the committed ELFs.
CFLAGS=(-march=rv32im -mabi=ilp32 -O2 -static -nostdlib -ffreestanding -fno-builtin
        -fno-tree-loop-distribute-patterns -fno-pic -fno-stack-protector -ffunction-sections
        -Wall -Wextra -Werror -Wl,--build-id=none -Wl,--gc-sections
        -ffile-prefix-map="$PWD"=.)
mkdir -p "$out"
for src in guests/src/*.c; do
    name=$(basename "$src" .c)
    "$CC" "${CFLAGS[@]}" -o "$out/$name.elf" "$src"
done
echo "built $(ls guests/src/*.c | wc -l) guests into $out" >&2

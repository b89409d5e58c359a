#!/usr/bin/env bash
# The whole test suite. Installs what the tests need when it is missing (qemu-user for the
# differential test and the emulated CPUs, the RISC-V cross-compiler for the guest rebuild
# check, node and the pinned solc-js for the contracts' bytecode check), checks formatting and
# lints (warnings are errors), then runs cargo test over the workspace with the default
# features (cuda, plots, evm) and with none, and the in-process tests again on emulated
# AVX2-only and SSE4.2-only CPUs (scripts/test-cpus.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v qemu-riscv32 >/dev/null 2>&1 && command -v qemu-x86_64 >/dev/null 2>&1 ||
    need+=(qemu-user)
command -v riscv64-unknown-elf-gcc >/dev/null 2>&1 || need+=(gcc-riscv64-unknown-elf)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The pinned Solidity compiler (and node, through apt, if missing): the contract tests rebuild
# the committed bytecode with it.
scripts/solc.sh
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
# The one-step differential (tests/one_step*.rs) over 1000 random programs of each kind: with the
# built-in guests, about 1.1 * 10^6 steps proven and verified one by one. Once is enough: the
# pass without features below runs the short default.
POIE_ONE_STEP_PROGRAMS="${POIE_ONE_STEP_PROGRAMS:-1000}" \
    cargo test --locked --workspace --lib --bins --tests "$@"
# Without the optional features (cuda, plots): what a user who only proves builds.
cargo clippy --locked --workspace --all-targets --no-default-features -- -D warnings
cargo test --locked --workspace --no-default-features --lib --bins --tests "$@"
# The in-process tests again on emulated CPUs without AVX-512 (Haswell) and without AVX
# (Nehalem), whatever CPU runs this.
scripts/test-cpus.sh

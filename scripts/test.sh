#!/usr/bin/env bash
# The whole test suite. Installs what the tests need when it is missing (qemu-user for the
# differential test, the RISC-V cross-compiler for the guest rebuild check), checks formatting
# and lints (warnings are errors), then runs cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v qemu-riscv32 >/dev/null 2>&1 || need+=(qemu-user)
command -v riscv64-unknown-elf-gcc >/dev/null 2>&1 || need+=(gcc-riscv64-unknown-elf)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --lib --bins --tests "$@"

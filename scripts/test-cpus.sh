#!/usr/bin/env bash
# The tests that run in-process (every crate's unit tests, the model's invariants, keccak, the streaming
# prover and the golden roots), again on emulated CPUs without AVX-512 and without AVX: a
# Haswell (AVX2) and a Nehalem (SSE4.2). qemu-x86_64 reports the emulated CPU's features, so
# blake3, the keccak kernels and the bench see the machine a user without AVX-512 has,
# whatever this host is. Tests that spawn the poie binary are left out: the child would run
# natively. Needs qemu-user (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
tests=(--test bench_model --test keccak --test proof_streaming --test golden)
mapfile -t bins < <(cargo test --locked --workspace --no-run --lib "${tests[@]}" 2>&1 |
    sed -n 's/^ *Executable .*(\(.*\))$/\1/p')
# Every crate's unit tests (the workspace members and the root package) and the four above.
crates=(crates/*/Cargo.toml)
want=$((${#crates[@]} + 1 + ${#tests[@]} / 2))
if [ ${#bins[@]} -ne "$want" ]; then
    echo "expected $want test binaries, found ${#bins[@]}: ${bins[*]}" >&2
    exit 1
fi
for cpu in Haswell Nehalem; do
    for bin in "${bins[@]}"; do
        echo "== $cpu: $bin" >&2
        # qemu warns about host-only CPUID bits it does not emulate; those lines say nothing.
        qemu-x86_64 -cpu "$cpu" "$bin" 2> >(grep -v "TCG doesn't support requested feature" >&2)
    done
done

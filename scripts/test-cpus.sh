#!/usr/bin/env bash
# The tests that run in-process and whose code depends on the CPU's SIMD (the unit tests of
# the trace, proof, source and bench crates; the model's invariants, keccak, the streaming
# prover and the golden roots), again on emulated CPUs without AVX-512 and without AVX: a
# Haswell (AVX2) and a Nehalem (SSE4.2). qemu-x86_64 reports the emulated CPU's features, so
# blake3, the keccak kernels and the bench see the machine a user without AVX-512 has,
# whatever this host is. Tests that spawn the poie binary are left out: the child would run
# natively. Needs qemu-user (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(poie-trace poie-proof poie-source poie-bench)
tests=(bench_model keccak proof_streaming golden)
mapfile -t bins < <({
    cargo test --locked --no-run --lib "${crates[@]/#/--package=}"
    cargo test --locked --no-run --package=poie "${tests[@]/#/--test=}"
} 2>&1 | sed -n 's/^ *Executable .*(\(.*\))$/\1/p')
want=$((${#crates[@]} + ${#tests[@]}))
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

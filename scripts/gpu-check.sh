#!/usr/bin/env bash
# The GPU checks of issue 12, in two steps.
#
# 1. Here (x86-64, no GPU needed):   scripts/gpu-check.sh prepare
#    builds the release `poie` and the GPU test binaries and copies them, stripped, into
#    target/gpu-bin/ (about 8 MiB): carry that folder to the GPU machine.
# 2. On the GPU machine:             OUT=/some/dir scripts/gpu-check.sh run [quick]
#    runs, each under a time limit, writing everything under $OUT:
#    - env.txt: nvidia-smi, the CUDA libraries the loader finds;
#    - gpu_cli.txt, gpu_roots.txt: the CPU-versus-GPU root-equality tests (golden
#      configurations, randomised sweep of lengths and L, the CLI path);
#    - prove_*.txt, commit_*.json: `poie prove --device cuda` against `--device cpu` on one synthetic trace
#      (same commitment, and both rates);
#    - gpu.json, gpu.md (+ gpu_bench.txt): the GPU measurement (`poie::bench::gpu`);
#    - summary.txt: one line per step with its exit status; gpu-results.tar.gz: all of it.
#    `quick` shrinks the measurement to a few seconds.
# 3. On the same machine, as a second call:  OUT=/some/dir scripts/gpu-check.sh bench
#    the default `poie bench --gpu` (16-core CPU sweep plus the GPU section) under $OUT/results.
#
# poie compiles its kernels with NVRTC at run time: the machine needs the NVIDIA driver
# (libcuda.so.1) and NVRTC (libnvrtc.so*, from a CUDA toolkit). The script adds the usual toolkit
# folders to LD_LIBRARY_PATH when the loader does not already find NVRTC.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${POIE_GPU_BIN:-target/gpu-bin}

prepare() {
    set -e
    local target=${CARGO_TARGET_DIR:-target}
    cargo build --release --bin poie
    # The test binaries use the dev profile (opt-level 3 here): the GPU does the hashing, and a
    # fat-LTO build of each test binary would take minutes.
    local json
    json=$(cargo test --no-run --message-format=json --test gpu_roots --test gpu_cli --test gpu_bench)
    mkdir -p "$BIN"
    cp "$target/release/poie" "$BIN/poie"
    for t in gpu_roots gpu_cli gpu_bench; do
        local exe
        exe=$(printf '%s\n' "$json" | grep -o "\"executable\":\"[^\"]*/$t-[0-9a-f]*\"" | head -1 \
            | sed 's/"executable":"\(.*\)"/\1/')
        [ -n "$exe" ] || { echo "no executable for $t" >&2; exit 1; }
        cp "$exe" "$BIN/$t"
    done
    strip "$BIN"/* 2>/dev/null || true
    du -sh "$BIN"
    echo "carry $BIN; then on the GPU machine: OUT=... scripts/gpu-check.sh run"
}

step() { # name limit command...
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.txt" 2>&1
    local rc=$?
    echo "$name: exit $rc in $((SECONDS - start)) s" | tee -a "$OUT/summary.txt"
    return $rc
}

run() {
    local quick=${1:-}
    : "${OUT:?set OUT to the folder for the results}"
    mkdir -p "$OUT"
    : >"$OUT/summary.txt"
    if ! ldconfig -p 2>/dev/null | grep -q libnvrtc; then
        for d in /usr/local/cuda/lib64 /usr/local/cuda-*/lib64 /usr/local/cuda/targets/*/lib \
            /usr/lib/x86_64-linux-gnu; do
            if ls "$d"/libnvrtc.so* >/dev/null 2>&1; then
                export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
                break
            fi
        done
    fi
    {
        date -u
        uname -a
        nvidia-smi 2>&1
        echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
        ldconfig -p 2>/dev/null | grep -E 'libcuda|libnvrtc'
        ls /usr/local/cuda*/lib64/libnvrtc* 2>/dev/null
        nproc
    } >"$OUT/env.txt" 2>&1
    # Root equality first: a measurement of a kernel that computes something else is void.
    POIE_BIN="$BIN/poie" step gpu_cli 120 "$BIN/gpu_cli" --nocapture --test-threads 1
    step gpu_roots 300 "$BIN/gpu_roots" --nocapture --test-threads 1
    local dir
    dir=$(mktemp -d)
    "$BIN/poie" salt new "$dir/salt" >/dev/null 2>&1
    local n=400000000 address=0x1111111111111111111111111111111111111111
    [ "$quick" = quick ] && n=20000000
    for layout in "--lanes 1 --unchained" "--lanes 1024"; do
        local tag=${layout// /}
        tag=${tag//--/_}
        for device in cpu cuda; do
            step "prove$tag-$device" 200 "$BIN/poie" prove --synthetic "$n" --salt-file "$dir/salt" \
                --address "$address" $layout --device "$device" --out "$OUT/commit$tag-$device.json"
        done
        if cmp -s "$OUT/commit$tag-cpu.json" "$OUT/commit$tag-cuda.json"; then
            echo "prove$tag: same commitment on cpu and cuda" | tee -a "$OUT/summary.txt"
        else
            echo "prove$tag: COMMITMENTS DIFFER (or a run failed)" | tee -a "$OUT/summary.txt"
        fi
    done
    rm -rf "$dir"
    if [ "$quick" = quick ]; then export POIE_GPU_QUICK=1; fi
    export POIE_GPU_OUT="$OUT"
    step gpu_bench 400 "$BIN/gpu_bench" --ignored --nocapture gpu_measurement
    tar -czf "$OUT/gpu-results.tar.gz" -C "$OUT" --exclude gpu-results.tar.gz . 2>/dev/null
}

# The 16-core CPU report with the GPU section (`poie bench --gpu`; plain `poie bench` where CUDA
# is unusable), under $OUT/results, tarred as bench-results.tar.gz. Run it as its own device
# call after `run`: a default sweep on 16 cores takes several minutes.
bench() {
    : "${OUT:?set OUT to the folder for the results}"
    mkdir -p "$OUT/results"
    if ! timeout 540 "$BIN/poie" bench --gpu --out-dir "$OUT/results" >"$OUT/bench.txt" 2>&1; then
        echo "bench --gpu failed (see bench.txt); plain bench" | tee -a "$OUT/summary.txt"
        timeout 540 "$BIN/poie" bench --out-dir "$OUT/results" >>"$OUT/bench.txt" 2>&1
    fi
    tar -czf "$OUT/bench-results.tar.gz" -C "$OUT" results bench.txt 2>/dev/null
}

case ${1:-} in
prepare) prepare ;;
run) run "${2:-}" ;;
bench) bench ;;
*)
    sed -n '2,22p' "$0" >&2
    exit 2
    ;;
esac

#!/usr/bin/env python3
"""Compares `poie prove` configurations on a noisy machine, in interleaved rounds.

Each round runs every configuration once, in a random order, on a synthetic trace of N
chunks; a configuration is a binary followed by its prove arguments. Prints each one's median
and best rate (M chunks/s, as poie reports it) and the median over rounds of its rate over the
first configuration's in the same round: a slow spell of the machine lands on both runs of a
round and cancels out of that ratio.

usage: scripts/ab-rounds.py ROUNDS N "BIN ARGS" "BIN ARGS"...
e.g.:  scripts/ab-rounds.py 12 16000000 "./poie-old --lanes 64 --threads 2" \\
           "target/release/poie --lanes 64 --threads 2"
"""
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

if len(sys.argv) < 4:
    sys.exit(__doc__)
rounds, n, configs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
address = "0x" + "11" * 20
with tempfile.TemporaryDirectory() as tmp:
    salt = os.path.join(tmp, "salt")
    first_bin = configs[0].split()[0]
    subprocess.run([first_bin, "salt", "new", salt], check=True, capture_output=True)
    rates = [[] for _ in configs]
    for _ in range(rounds):
        order = list(range(len(configs)))
        random.shuffle(order)
        for i in order:
            binary, *args = configs[i].split()
            cmd = [binary, "prove", "--synthetic", n, "--salt-file", salt, "--address", address]
            out = subprocess.run(cmd + args, capture_output=True, text=True)
            found = re.search(r"([\d.]+) M chunks/s", out.stderr)
            if out.returncode != 0 or not found:
                sys.exit(f"{configs[i]}: failed:\n{out.stderr}")
            rates[i].append(float(found.group(1)))
for i, config in enumerate(configs):
    ratio = statistics.median(y / x for x, y in zip(rates[0], rates[i]))
    print(f"{config:50} median {statistics.median(rates[i]):.1f} best {max(rates[i]):.1f}"
          f"  over the first, per round: {ratio:.3f}")

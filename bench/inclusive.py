#!/usr/bin/env python3
"""Inclusive share of perf samples under a function, split by what it calls.

    perf script -i perf.data | python3 bench/inclusive.py 'pipeline::handle' [depth] [rows]

Prints the share of all samples whose stack passes through the first frame matching the pattern,
then, for each chain of up to `depth` callees below it, the share of all samples under that chain
("(self)" for samples in the function itself), the `rows` largest (default 30). Used by
bench/user_profile.sh.
"""
import collections
import re
import sys


def frames(block):
    """Function names of one sample's stack, innermost first."""
    return [re.sub(r"\+0x[0-9a-f]+$", "", re.sub(r"^\s*[0-9a-f]+\s+", "", line).rsplit(" (", 1)[0]) for line in block]


def main():
    target = sys.argv[1]
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    total = under = 0
    shares = collections.Counter()
    block = []

    def flush():
        nonlocal total, under
        if not block:
            return
        total += 1
        names = frames(block)
        for i, name in enumerate(names):
            if target in name:
                under += 1
                shares[" <- ".join(reversed(names[max(0, i - depth):i])) or "(self)"] += 1
                break

    for line in sys.stdin:
        if not line.strip():
            flush()
            block = []
        elif line.startswith(("\t", "    ")):
            block.append(line.strip())
    flush()
    if total == 0:
        print("no samples")
        return
    print(f"{target}: {under / total * 100:.1f}% of samples")
    for chain, n in shares.most_common(rows):
        print(f"{n / total * 100:6.2f}%  {chain[:180]}")


if __name__ == "__main__":
    main()

"""A child process of a chunked training proof (`chunked_prover._prove_chunks`):
`python -m zkaudit.statements.training.chunk_worker JOB W N` proves chunks
k = W, W + N, ... of the job and writes each as chunk{k}.pickle beside it."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    job, w, n = Path(argv[0]), int(argv[1]), int(argv[2])
    with open(job, "rb") as fh:
        inp, lay, shape, boundary, base, pads = pickle.load(fh)
    from zkaudit.statements.training.chunked_prover import _prove_chunk

    for k in range(w, lay.K, n):
        out = _prove_chunk(k, inp, lay, shape, boundary, base, pads[k])
        part = job.parent / f"chunk{k}.pickle.part"
        with open(part, "wb") as fh:
            pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
        part.replace(job.parent / f"chunk{k}.pickle")  # whole or absent: the parent reads only finished chunks
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""DP-SGD training under a declared policy: the integer semantics a training
proof certifies, and everything around it that a proof stands on.

    policy.py        the policy JSON (strict parse, canonical form, digest h_Pi)
    tables.py        CDT tables (rounded Gaussian, geometric gaps, sigmoid) with exact TV
    randomness.py    the committed tape, the auditor's BLS coin, the mask, u = R + m mod 2^63
    trainer.py       the integer reference trainer (vectorised and naive), its witness trace
    check.py         the non-zero-knowledge checker of a run: the relation, constraint by constraint
    accountant.py    epsilon from the policy with dp-accounting (PLD, RDP cross-check) and the delta slack
    run.py           the run directory: init (commit the tape), coin, train, model export
    export.py        trained float and quantized (QDQ) ONNX models
    float_reference.py, example.py   float DP-SGD and the breast-cancer example (tests, benchmark)

Imports: data and below (the layer sits between data and statements; the
training statement will import it, never the other way round)."""

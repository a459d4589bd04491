"""Proof fuzzing: mutate real proofs and check that verification rejects
every mutant through the typed channel, within a time and memory budget.

A *target* is one honest proof of a zoo model (public input, a batch, a
committed input) with the circuit and weight commitment it verifies
against. Mutants are made

* at every byte of the proof's prefix: the envelope, the inference body up
  to the layer proofs, and the first bytes of every length-prefixed section
  (where the counts and lengths live);
* at every byte of every embedded sum-check and lookup header (round count,
  evaluation count, table count...: the fields that drive allocation),
  located by recording where the parsers read during an honest run;
* at random offsets elsewhere (one byte, or a 32-bit word set to an extreme);
* by truncation, by extension, and by inserting or deleting one byte.

Each mutant is verified in a forked child under RLIMIT_AS and a wall-clock
timeout, through `verify_proof` (the entry point of the CLI and the
registry). The outcome is one of

    rejected  the verdict is invalid (cause: the rejection's `[where]`)
    accepted  the verdict is valid: a malleable or unsound format
    hang      the child ran past the timeout (killed)
    crash     any other exception (a traceback, MemoryError included:
              an allocation the byte length did not pay for), or a signal

The campaign passes with 0 accepted, 0 hangs, 0 crashes.
"""

from __future__ import annotations

import os
import random
import re
import resource
import select
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ZOO = ROOT / "circuits"
KINDS = ("public", "batch", "committed")
# The large campaign (`pytest -m fuzz`, benchmarks/fuzz_proofs.py): one model
# per layer family (gemm + table; matmul + requantize + softmax; conv + pool).
LARGE_MODELS = ("logistic_risk", "clinical_mlp", "digits_cnn")
LARGE_SETTINGS = dict(seed=1, random_offsets=300, structural=600, thorough=True, sumchecks=60, timeout=10.0)


@dataclass
class Target:
    name: str  # e.g. "logistic_risk/public"
    proof: bytes
    circuit_bin: bytes
    commitment: bytes
    prefix_end: int = 0  # every byte below this is in the header set
    header_offsets: set[int] = field(default_factory=set)  # structural bytes further in
    sumcheck_starts: list[int] = field(default_factory=list)  # where each located sum-check header begins
    check: object = None  # (target, data) -> verdict; None: `verify` (an inference proof)


@dataclass
class Outcome:
    kind: str  # rejected | accepted | hang | crash
    cause: str


@dataclass
class Report:
    tried: int = 0
    outcomes: Counter = field(default_factory=Counter)  # kind -> count
    causes: Counter = field(default_factory=Counter)  # rejection cause -> count
    failures: list = field(default_factory=list)  # (target, mutation, outcome) for accepted/hang/crash

    def add(self, target: str, label: str, outcome: Outcome) -> None:
        self.tried += 1
        self.outcomes[outcome.kind] += 1
        if outcome.kind == "rejected":
            self.causes[outcome.cause] += 1
        else:
            self.failures.append((target, label, outcome))

    @property
    def clean(self) -> bool:
        return not self.failures


# -- targets ------------------------------------------------------------------


def build_targets(models=("logistic_risk",), kinds=KINDS, workdir: Path | None = None) -> list[Target]:
    """Compile each zoo model (into `workdir`), commit its weights and prove
    one proof per kind from the model's own input.json."""
    import tempfile

    from zkaudit.circuit import encode_circuit, load_circuit, load_weights, read_inputs
    from zkaudit.onnx.compile import compile_model
    from zkaudit.statements.inference.prover import commit_weights, prove

    workdir = Path(workdir or tempfile.mkdtemp(prefix="zkaudit-fuzz-"))
    targets = []
    for model in models:
        folder = ZOO / model
        out = workdir / model
        cal = folder / "calibration.npy"
        compile_model(folder / "model.onnx", out, calibration=cal if cal.exists() else None)
        circuit, weights = load_circuit(out), load_weights(out)
        commitment = commit_weights(circuit, weights)[0].to_bytes()
        samples = read_inputs(folder / "input.json", circuit).samples
        circuit_bin = encode_circuit(circuit)
        for kind in kinds:
            inputs = list(samples[:2]) if kind == "batch" else samples[0]
            proof = prove(circuit, weights, inputs, weight_commitment=commitment, commit_input=kind == "committed")
            target = Target(f"{model}/{kind}", proof, circuit_bin, commitment)
            locate_headers(target)
            targets.append(target)
    return targets


def locate_headers(target: Target, section_head: int = 64) -> None:
    """Fill `prefix_end` and `header_offsets` from the proof's own layout and
    from where the sum-check and lookup parsers read during an honest run."""
    from zkaudit.circuit.encoding import decode_circuit
    from zkaudit.statements.envelope import parse_envelope
    from zkaudit.statements.inference.batch import widen
    from zkaudit.statements.inference.proof import InferenceBody

    proof = target.proof
    env = parse_envelope(proof)
    start = len(proof) - len(env.body)
    circuit = decode_circuit(target.circuit_bin)
    body = InferenceBody.from_bytes(env.body, circuit)
    wide = widen(circuit, body.batch)
    pos = start + 4 + 32 + 32 + 1
    if body.committed_input:
        pos += 4 + len(body.input_commitment)
    else:
        pos += sum(8 * s.size for s in wide.inputs)
    pos += sum(8 * s.size for s in wide.outputs)
    blobs = [body.advice_commitment, body.layers, body.weight_opening, body.advice_opening]
    if body.committed_input:
        blobs.append(body.input_opening)
    # The prefix: everything up to the advice commitment's length, then the
    # length and head of every section.
    target.prefix_end = pos + 4 + min(len(blobs[0]), section_head)
    for blob in blobs:
        target.header_offsets.update(range(pos, pos + 4 + min(len(blob), section_head)))
        pos += 4 + len(blob)
    found, target.sumcheck_starts = _parser_headers(target)
    target.header_offsets.update(found)
    target.header_offsets.difference_update(range(target.prefix_end))


def _parser_headers(target: Target) -> tuple[set[int], list[int]]:
    """Offsets (in the proof) of every sum-check header (u32 rounds, u8
    evals, u32 final count) and lookup-proof header and count, found by
    recording the parsers' reads during one honest verification and locating
    each read's bytes in the proof (the bytes after a header are field
    elements, so a 32-byte window is unique in practice)."""
    from zkaudit.lookup.proof import LookupProof
    from zkaudit.statements.verify import verify_proof
    from zkaudit.sumcheck.proof import SumcheckProof

    proof = target.proof
    windows: list[tuple[bytes, list[int], bool]] = []  # (bytes read, header bytes in them, a sum-check start)
    sc_read = SumcheckProof.read.__func__
    lk_from = LookupProof.from_bytes.__func__

    def sc_spy(cls, data, offset, **shape):
        parsed, end = sc_read(cls, data, offset, **shape)
        rounds = len(parsed.round_evals)
        evals = len(parsed.round_evals[0]) if rounds else 0
        finals_at = 5 + rounds * evals * 16
        windows.append((bytes(data[offset : offset + 32]), [*range(5)], True))
        windows.append((bytes(data[offset + finals_at : offset + finals_at + 32]), [*range(4)], False))
        return parsed, end

    def lk_spy(cls, data):
        parsed = lk_from(cls, data)
        windows.append((bytes(data[:32]), [*range(9)], False))  # magic, version, table count
        return parsed

    SumcheckProof.read = classmethod(sc_spy)
    LookupProof.from_bytes = classmethod(lk_spy)
    try:
        verdict = verify_proof(proof, circuit_bin=target.circuit_bin, weight_commitment=target.commitment)
    finally:
        SumcheckProof.read = classmethod(sc_read)
        LookupProof.from_bytes = classmethod(lk_from)
    if not verdict.valid:
        raise RuntimeError(f"{target.name}: the honest proof does not verify: {verdict.reason}")
    found, starts = set(), set()
    for window, rel, start in windows:
        if len(window) < 16:
            continue  # too short to place uniquely
        at = proof.find(window)
        if at >= 0 and proof.find(window, at + 1) < 0:
            found.update(at + r for r in rel if at + r < len(proof))
            if start:
                starts.add(at)
    return found, sorted(starts)


# -- mutations ----------------------------------------------------------------


def _byte_values(orig: int, rng: random.Random, thorough: bool) -> list[int]:
    if not thorough:
        return [orig ^ rng.randrange(1, 256)]
    # off by one in a low count byte, an extreme (a huge count in a top byte,
    # zero in a flag or evaluation count), and anything else
    vals = {orig ^ 0x01, 0x00 if orig == 0xFF else 0xFF, orig ^ rng.randrange(1, 256)}
    vals.discard(orig)
    return sorted(vals)


def mutations(target: Target, rng: random.Random, *, random_offsets: int, structural: int | None = None,
              thorough: bool = False, sumchecks: int = 0):
    """Yield (label, mutated bytes); every mutant differs from the proof.
    Every prefix byte is mutated (several values each when `thorough`);
    `structural` samples that many of the other header bytes (None: all of
    them); `sumchecks` runs `sumcheck_header_mutations` on that many
    located sum-checks."""
    proof = target.proof
    n = len(proof)
    inner = sorted(target.header_offsets)
    if structural is not None and structural < len(inner):
        inner = sorted(rng.sample(inner, structural))
    for i in range(target.prefix_end):
        for v in _byte_values(proof[i], rng, thorough):
            yield f"byte {i}={v:#04x}", proof[:i] + bytes([v]) + proof[i + 1 :]
    for i in inner:
        v = proof[i] ^ rng.randrange(1, 256)
        yield f"byte {i}={v:#04x}", proof[:i] + bytes([v]) + proof[i + 1 :]
    if sumchecks:
        starts = target.sumcheck_starts
        picked = Target(target.name, proof, target.circuit_bin, target.commitment,
                        sumcheck_starts=sorted(rng.sample(starts, min(sumchecks, len(starts)))))
        yield from sumcheck_header_mutations(picked)
    header = sorted(set(range(target.prefix_end)) | set(inner))
    others = [i for i in range(n) if i not in target.header_offsets and i >= target.prefix_end]
    for i in rng.sample(others, min(random_offsets, len(others))):
        v = proof[i] ^ rng.randrange(1, 256)
        yield f"byte {i}={v:#04x}", proof[:i] + bytes([v]) + proof[i + 1 :]
    # 32-bit words set to extremes: a length or count read there asks for the most
    for i in rng.sample(range(n - 3), min(max(random_offsets // 4, 4), n - 3)):
        for word in (b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x00"):
            if proof[i : i + 4] != word:
                yield f"word {i}={word.hex()}", proof[:i] + word + proof[i + 4 :]
    cuts = sorted({0, 1, 11, n - 1, n // 2, *rng.sample(range(n), min(8, n)), *header[:: max(1, len(header) // 16)]})
    for cut in cuts:
        if cut < n:
            yield f"truncate {cut}", proof[:cut]
    for extra in (b"\x00", b"\xff", bytes(rng.randrange(256) for _ in range(rng.randrange(2, 64)))):
        yield f"extend +{len(extra)}", proof + extra
    for i in rng.sample(range(n), min(4, n)):
        yield f"insert {i}", proof[:i] + bytes([rng.randrange(256)]) + proof[i:]
        yield f"delete {i}", proof[:i] + proof[i + 1 :]


def sumcheck_header_mutations(target: Target):
    """The issue-14 class, at every located sum-check: the round count's top
    byte made huge (an allocation the bytes do not pay for) and the
    evaluation count set to other values (ignored when there are no rounds:
    malleable)."""
    proof = target.proof
    for at in target.sumcheck_starts:
        for i, v in ((at + 3, 0x7F), (at + 3, 0xFF), (at + 2, 0x01)):
            if proof[i] != v:
                yield f"sum-check at {at}: rounds byte {i - at}={v:#04x}", proof[:i] + bytes([v]) + proof[i + 1 :]
        for v in (0, 1, 3, 0xFF):
            if proof[at + 4] != v:
                yield f"sum-check at {at}: evals={v}", proof[: at + 4] + bytes([v]) + proof[at + 5 :]


# -- running one mutant in a child ---------------------------------------------

_WHERE = re.compile(r"^\[([^\]\s]+)")


def _cause(reason: str) -> str:
    m = _WHERE.match(reason)
    if m:
        return m.group(1)
    reason = re.sub(r"'[^']*'", "'...'", reason)  # one cause, whatever statement name was mutated
    return re.sub(r"\s*\(expected .*", "", reason)[:60]


@dataclass
class _Verdict:
    valid: bool
    reason: str


def build_consent_targets(num_ids: int = 40, num_records: int = 12) -> list[Target]:
    """Consent proofs (with and without unique IDs) over a synthetic dataset,
    checked as `verify-consent --dataset DS --consent CT` does: against the
    records the caller holds."""
    import secrets

    import pyarrow as pa

    from zkaudit.data.consent_table import commit_consent_table
    from zkaudit.data.dataset import commit_dataset
    from zkaudit.statements.consent.prover import prove_consent

    ids = [secrets.token_hex(16) for _ in range(num_ids)]
    table, table_opening, _ = commit_consent_table(ids, issuer="irb-fuzz", purpose="train:fuzz", version=1)
    schema = {"columns": [{"name": "patient", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
              "id_column": "patient", "population": "synthetic"}
    cols = {"patient": pa.array(ids[:num_records]), "age": pa.array([str(20 + i) for i in range(num_records)])}
    dataset, dataset_opening = commit_dataset(cols, schema)
    targets = []
    for unique in (False, True):
        proof = prove_consent(dataset, dataset_opening, table, table_opening, unique_ids=unique)

        def check(target, data, unique=unique):
            from zkaudit.errors import ProofRejected
            from zkaudit.statements.consent.verifier import verify_consent

            try:
                verify_consent(data, dataset=dataset, table=table, unique_ids=unique)
            except ProofRejected as exc:
                return _Verdict(False, str(exc))
            return _Verdict(True, "proof verified")

        target = Target(f"consent/{'unique' if unique else 'any'}", proof, b"", b"", check=check)
        target.prefix_end = min(len(proof), 160)  # envelope, records' framing, first section headers
        targets.append(target)
    return targets


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def verify(target: Target, data: bytes):
    """What the CLI's `verify` and the registry's check run on proof bytes."""
    from zkaudit.statements.verify import verify_proof

    return verify_proof(data, circuit_bin=target.circuit_bin, weight_commitment=target.commitment)


def _child(target: Target, data: bytes, mem_headroom: int, wfd: int, check) -> None:
    code = 0
    try:
        limit = _vm_size() + mem_headroom
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        verdict = check(target, data)
        msg = f"A\t{verdict.reason}" if verdict.valid else f"R\t{_cause(verdict.reason)}"
    except BaseException as exc:  # noqa: BLE001 -- anything but a verdict is what we are looking for
        import traceback

        tb = traceback.extract_tb(exc.__traceback__)
        last = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
        msg = f"C\t{type(exc).__name__} at {last}: {str(exc)[:200]}"
        code = 3
    try:
        os.write(wfd, msg.encode("utf-8", "replace")[:4000])
    finally:
        os._exit(code)


def run_one(target: Target, data: bytes, *, timeout: float = 10.0, mem_headroom: int = 1 << 30,
            check=verify) -> Outcome:
    """Run `check(target, data)` (a verdict: `.valid`, `.reason`) in a
    forked child with RLIMIT_AS = its current size + `mem_headroom`."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(rfd)
        _child(target, data, mem_headroom, wfd, check)
    os.close(wfd)
    deadline = time.monotonic() + timeout
    chunks = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Outcome("hang", f"no verdict after {timeout:.0f} s")
            ready, _, _ = select.select([rfd], [], [], left)
            if ready:
                chunk = os.read(rfd, 4096)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(rfd)
    _, status = os.waitpid(pid, 0)
    msg = b"".join(chunks).decode("utf-8", "replace")
    if os.WIFSIGNALED(status):
        return Outcome("crash", f"killed by signal {os.WTERMSIG(status)}")
    if msg.startswith("R\t"):
        return Outcome("rejected", msg[2:])
    if msg.startswith("A\t"):
        return Outcome("accepted", msg[2:])
    if msg.startswith("C\t"):
        return Outcome("crash", msg[2:])
    return Outcome("crash", f"child exited {os.WEXITSTATUS(status)} without a verdict")


def campaign(targets, *, seed: int = 0, random_offsets: int = 40, structural: int | None = None,
             thorough: bool = False, sumchecks: int = 0, timeout: float = 10.0, mem_headroom: int = 1 << 30,
             progress=None) -> Report:
    report = Report()
    rng = random.Random(seed)
    for target in targets:
        for label, data in mutations(target, rng, random_offsets=random_offsets, structural=structural,
                                     thorough=thorough, sumchecks=sumchecks):
            report.add(target.name, label, run_one(target, data, timeout=timeout, mem_headroom=mem_headroom,
                                                   check=target.check or verify))
            if progress is not None and report.tried % 200 == 0:
                progress(report)
    return report


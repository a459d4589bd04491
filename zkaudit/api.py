"""The Python API: compile, prove, commit to an input, verify.

The CLI commands are thin layers over these functions, so a script and the
command line write the same artifacts and reach the same verdicts
(docs/python.md shows each call and tests/test_api_docs.py runs those examples;
tests/test_api_python.py covers the rest).
Everything heavy is imported inside the functions: `import zkaudit` stays
cheap.

Inputs (`prove`, `commit_input`, `verify(inputs=...)`) may be given as

* a path to a JSON input file (`{"inputs": {NAME: values}}`,
  `{"inputs_int": ...}` or EZKL's `{"input_data": [[...]]}`),
* one of those documents as a dict,
* for a one-input model, the float values themselves (a numpy array or
  nested lists) in the input's shape, or (N, *shape) for a batch,
* `{NAME: float array}` for each input of the model.

Float values are quantized with the compiled model's input scale and zero
point, exactly as the CLI does.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkaudit.errors import ProofRejected, ZkauditError

__all__ = ["compile", "prove", "commit_input", "verify", "Proof", "Verification", "resolve_model_ref"]


@dataclass(frozen=True)
class Proof:
    """What `prove` made. `output` is dequantized, in the output's shape
    (a list per sample when the input held a batch); `output_int` the
    circuit integers; `outputs` the same for every output by name."""

    proof: bytes
    digest: str
    output: Any
    output_int: Any
    outputs: dict
    batch: int
    batched: bool
    prove_seconds: float
    input_commitment: bytes | None = None
    path: Path | None = None
    input_commitment_path: Path | None = None
    input_opening: bytes | None = None  # the hiding input commitment's secret seed (keep it with the record)
    input_opening_path: Path | None = None

    @property
    def proof_bytes(self) -> int:
        return len(self.proof)


@dataclass(frozen=True)
class Verification:
    """A verdict: `valid`, the exact `reason` when not, and what a valid
    proof establishes (outputs dequantized with the registered circuit's
    scales, as `Proof.output`). `bool(v)` is `v.valid`."""

    valid: bool
    reason: str
    statement: str | None = None
    output: Any = None
    output_int: Any = None
    outputs: dict | None = None
    batch: int | None = None
    input_commitment: bytes | None = None
    soundness_bits: float | None = None
    privacy: dict | None = None  # zero_knowledge, what is hidden, weight evaluations revealed
    verifier_version: str = ""
    model: str | None = None  # NAME@VERSION checked against, with --model / registry=
    circuit_digest: str | None = None
    extra: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.valid


# -- compile -------------------------------------------------------------------

# The weight commitment `compile` writes (`weight_commitment_file`):
#   "plain"   the tensor-code commitment every proof opens (not hiding: each
#             proof reveals a little about the weights);
#   "hashed"  the salted Poseidon2 Merkle root (p2gl8-tree-v2) that proofs
#             never open, with its salt in private/weights.salt: every
#             zero-knowledge proof re-commits the weights and proves they
#             hash to it (`statements.inference.weights_link`), so the
#             weights stay hidden across any number of proofs. The default.
WEIGHT_COMMITMENTS = ("plain", "hashed")
DEFAULT_WEIGHT_COMMITMENT = "hashed"


def compile(model, out, *, calibration=None, eval_data=None, input_shapes: dict | None = None,
            method: str = "minmax", percentile: float = 99.99, weight_commitment: str | None = None):
    """Compile the ONNX file `model` into the folder `out`: public/circuit.bin,
    public/summary.json, public/weights.commitment and private/weights.bin
    (and private/weights.salt with `weight_commitment="hashed"`; default
    DEFAULT_WEIGHT_COMMITMENT). Float models need `calibration` (a
    .npy/.npz/JSON path, or a dict input name -> samples). An existing `out`
    is replaced only if it holds a compiled model and nothing else. Returns a
    `CompileSummary`."""
    from zkaudit.onnx import compile_model

    scheme = check_weight_commitment(weight_commitment)
    return compile_model(model, out, calibration=calibration, input_shapes=input_shapes, eval_data=eval_data,
                         method=method, percentile=percentile,
                         extra_files=lambda circuit, weights: weight_commitment_file(circuit, weights, scheme))


def check_weight_commitment(scheme: str | None) -> str:
    scheme = DEFAULT_WEIGHT_COMMITMENT if scheme is None else scheme
    if scheme not in WEIGHT_COMMITMENTS:
        raise ZkauditError(f"unknown weight commitment {scheme!r}: choose {' or '.join(WEIGHT_COMMITMENTS)}")
    return scheme


def weight_commitment_file(circuit, weights, scheme: str | None = None, salt=None) -> dict:
    """{relative path: bytes} of the weight commitment `compile` writes:
    public/weights.commitment (what the registry publishes) and, for
    "hashed", private/weights.salt (16 bytes; the vendor keeps it: with it
    the root hides the weights). A circuit without weights gets the fixed
    no-weights commitment either way (there is nothing to hide)."""
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE, SALT_FILE, hashed_weight_commitment
    from zkaudit.statements.inference.prover import commit_weights

    scheme = check_weight_commitment(scheme)
    # always: it also refuses a circuit the prover could not prove (`commit_weights`)
    plain, _ = commit_weights(circuit, weights)
    if scheme == "plain" or not circuit.weights:
        return {COMMITMENT_FILE: plain.to_bytes()}
    from zkaudit.hash.commitment import salt_to_bytes

    commitment, salt = hashed_weight_commitment(circuit, weights, salt)
    return {COMMITMENT_FILE: commitment.to_bytes(), SALT_FILE: salt_to_bytes(salt)}


def upgrade_commitment(model_dir, key, reg, *, ref: str | None = None, new_version: str | None = None) -> dict:
    """Give a published model version a hiding weight commitment: `model_dir`
    was compiled with a plain (tensor-code) commitment and published as
    `ref` (found by its circuit and commitment digests when not given). The
    weights in private/weights.bin must commit to exactly the registered
    plain commitment; then the folder gets the hashed commitment and a fresh
    salt (one atomic swap of the whole folder) and `key` publishes
    NAME@`new_version` (default VERSION-hashed) with the same circuit and
    model card, naming VERSION as the version it supersedes. If publishing
    fails the folder is put back as it was. `reg` is an open registry
    (`registry.store.Registry` or `registry.remote.RemoteRegistry`)."""
    from zkaudit.circuit import load_circuit, load_weights
    from zkaudit.onnx.compile import MODEL_LAYOUT, OutputFolderRefused, check_out_dir, write_atomically
    from zkaudit.registry.artifacts import read_model_dir
    from zkaudit.registry.client import card_from, publish_local
    from zkaudit.registry.remote import is_remote
    from zkaudit.registry.views import parse_ref
    from zkaudit.registry.weight_commitments import HASHED, commitment_kind, describe_weight_commitment
    from zkaudit.statements.inference.commitment import SALT_FILE
    from zkaudit.statements.inference.prover import commit_weights

    model_dir = Path(model_dir)
    art = read_model_dir(model_dir)
    if commitment_kind(art.weight_commitment) == HASHED:
        raise ZkauditError(f"{model_dir} already has a hashed (hiding) weight commitment: nothing to upgrade")
    try:
        check_out_dir(model_dir)
    except OutputFolderRefused as exc:
        raise ZkauditError(f"{model_dir} holds files that are not part of a compiled model; the upgrade rewrites "
                           f"the folder and never deletes other files ({exc.message})",
                           hint="move those files out first") from None
    name, old = parse_ref(ref) if ref is not None else _published_as(reg, art, model_dir)
    view = reg.show_version(name, old)
    owner = reg.show_model(name)["vendor_public_key"]
    if owner != key.public_key.hex():
        raise ZkauditError(f"{name} belongs to vendor {view['vendor']!r}; --key {key.name!r} is another key",
                           hint="upgrade with the vendor key that published it")
    if view["circuit_digest"] != art.circuit_digest:
        raise ZkauditError(f"{model_dir} holds another circuit than {name}@{old} "
                           f"({art.circuit_digest[:16]}... vs {view['circuit_digest'][:16]}...)")
    if commitment_kind(reg.artifacts(name, old)[1]) == HASHED:
        raise ZkauditError(f"{name}@{old} already has a hashed (hiding) weight commitment: nothing to upgrade")
    if view.get("revoked"):
        raise ZkauditError(f"{name}@{old} was revoked ({view['revoked']['reason']}): it is not upgraded")
    if view.get("superseded_by"):
        raise ZkauditError(f"{name}@{old} is already superseded by {view['superseded_by']}")
    circuit = load_circuit(model_dir)
    weights = load_weights(model_dir)
    weights.check(circuit)
    if not circuit.weights:
        raise ZkauditError(f"{name}@{old} has no weights: there is nothing to hide")
    registered = reg.artifacts(name, old)[1]
    if commit_weights(circuit, weights)[0].to_bytes() != registered:
        raise ZkauditError(f"the weights in {model_dir / 'private' / 'weights.bin'} do not match the weight "
                           f"commitment published as {name}@{old}: refusing to vouch that the upgrade hides the "
                           "same weights", hint="upgrade from the folder that was published")
    new_version = new_version or f"{old}-hashed"
    before = {Path(sub) / n: (model_dir / sub / n).read_bytes()
              for sub, names in MODEL_LAYOUT.items() for n in names if (model_dir / sub / n).is_file()}
    after = {**before, **weight_commitment_file(circuit, weights, "hashed")}
    card = view["model_card"]
    card = card_from(card["intended_use"], card["training_data"], card["claimed_metrics"])
    write_atomically(model_dir, after)
    new_art = None
    try:
        new_art = read_model_dir(model_dir)
        out = (reg.publish_as(key, new_art, name, new_version, card, supersedes=old) if is_remote(reg.url)
               else publish_local(reg, key, new_art, name, new_version, card, supersedes=old))
    except BaseException as exc:
        # A reply lost after the registry stored the successor must not cost its salt: the folder
        # goes back only when the successor is certainly not published.
        published = _published_with(reg, name, new_version, new_art)
        if published is False:
            write_atomically(model_dir, before)  # as it was: its commitment is still the published one
            raise
        if published is None:
            raise ZkauditError(f"publishing {name}@{new_version} failed ({exc}), and whether the registry stored "
                               f"it cannot be told now: {model_dir} keeps the hashed commitment and its salt",
                               hint=f"see `zkaudit registry show {name}@{new_version}`; if it is not there, "
                                    f"`zkaudit registry publish {model_dir} --name {name} --version {new_version} "
                                    f"--supersedes {old} --key ...`") from exc
        out = {**reg.show_version(name, new_version), "note": f"the reply was lost ({exc}), but the registry "
               "holds the successor"}
    return {**out, "supersedes": f"{name}@{old}", "weight_commitment": describe_weight_commitment(
        new_art.weight_commitment), "salt_file": str(model_dir / SALT_FILE), "model_dir": str(model_dir)}


def _published_with(reg, name: str, version: str, art) -> bool | None:
    """Whether `reg` holds name@version with `art`'s weight commitment
    (None: the registry cannot be asked right now)."""
    from zkaudit.registry.errors import NotFound

    if art is None:
        return False
    try:
        view = reg.show_version(name, version)
    except NotFound:
        return False
    except Exception:  # unreachable, or failing: unknown, so nothing is rolled back
        return None
    return view["weight_commitment_digest"] == art.weight_commitment_digest


def _published_as(reg, art, model_dir) -> tuple[str, str]:
    """The one version in `reg` with `art`'s circuit and weight commitment."""
    found = [(m["name"], v["version"]) for m in reg.list_models() for v in reg.show_model(m["name"])["versions"]
             if v["circuit_digest"] == art.circuit_digest
             and v["weight_commitment_digest"] == art.weight_commitment_digest]
    if not found:
        raise ZkauditError(f"no version in this registry holds {model_dir}'s circuit and weight commitment",
                           hint="publish it first, or compile with --weight-commitment hashed and publish that")
    if len(found) > 1:
        raise ZkauditError(f"{model_dir} is published as {', '.join(f'{n}@{v}' for n, v in found)}",
                           hint="name the version to upgrade with --model NAME@VERSION")
    return found[0]


# -- inputs --------------------------------------------------------------------

def input_batch(inputs, circuit):
    """Any accepted form of inputs (module docstring) -> `InputBatch`."""
    import numpy as np

    from zkaudit.circuit.inputs import parse_inputs, read_inputs

    if isinstance(inputs, (str, Path)):
        return read_inputs(inputs, circuit)
    if isinstance(inputs, dict) and ({"inputs", "inputs_int", "input_data"} & set(inputs)):
        return parse_inputs(inputs, circuit)
    names = [s.name for s in circuit.inputs]
    if isinstance(inputs, dict):
        values = inputs
    elif len(names) == 1:
        values = {names[0]: inputs}
    else:
        raise ZkauditError(f"the model has {len(names)} inputs {names}: give inputs as {{name: array}}")
    try:
        doc = {"inputs": {k: np.asarray(v, dtype=np.float64).tolist() for k, v in values.items()}}
    except (TypeError, ValueError) as exc:
        raise ZkauditError(f"inputs are not arrays of numbers: {exc}") from None
    return parse_inputs(doc, circuit)


def output_doc(circuit, ints_by_name) -> dict:
    """A model output as every command reports it: `output` dequantized in
    the output's shape, `output_int` the integers; `outputs` per output name."""
    import numpy as np

    from zkaudit.circuit import dequantize

    per = {}
    for spec in circuit.outputs:
        q = ints_by_name[spec.name]
        per[spec.name] = {"output": dequantize(spec, q).tolist(), "output_int": np.asarray(q).tolist()}
    first = per[circuit.outputs[0].name]
    return {"digest": circuit.digest(), "output": first["output"], "output_int": first["output_int"], "outputs": per}


def sample_outputs(circuit, weights, samples, batched: bool) -> dict:
    """Every sample's outputs as `output_doc` gives them, a list per sample when `batched`."""
    results = [output_doc(circuit, circuit.execute(weights, sample)) for sample in samples]
    doc = dict(results[0])
    if batched:
        doc["output"] = [r["output"] for r in results]
        doc["output_int"] = [r["output_int"] for r in results]
        doc["outputs"] = {name: {"output": [r["outputs"][name]["output"] for r in results],
                                 "output_int": [r["outputs"][name]["output_int"] for r in results]}
                          for name in doc["outputs"]}
    return doc


# -- prove ---------------------------------------------------------------------

def prove(model_dir, inputs, *, out=None, commit_input: bool = False, force: bool = False,
          progress=None, zero_knowledge: bool = True, input_opening=None) -> Proof:
    """Prove that the compiled model in `model_dir` maps `inputs` to its
    output. With `out`, the proof is written there (and with `commit_input`
    the input commitment to OUT.input-commitment and its secret opening to
    OUT.input-opening, readable by its owner only: whoever holds the record
    keeps it to check later that a proof is about that record); an existing
    file is refused unless `force`. Several samples give one proof for all.
    The proof is zero-knowledge unless `zero_knowledge=False`."""
    from zkaudit.circuit import load_circuit, load_weights
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE, input_commitment

    model_dir = Path(model_dir)
    out = Path(out) if out is not None else None
    commitment_path = out.with_name(out.name + ".input-commitment") if out is not None and commit_input else None
    opening_path = (out.with_name(out.name + ".input-opening")
                    if out is not None and commit_input and zero_knowledge else None)
    if out is not None:
        check_out_file(out, force)
        if commitment_path is not None:
            check_out_file(commitment_path, force, "the input commitment file")
        if opening_path is not None:
            check_out_file(opening_path, force, "the input opening file")
    opening = None
    if commit_input and zero_knowledge:
        from zkaudit.field.randomness import new_seed

        opening = (_bytes(input_opening, "input opening", "a 32-byte secret seed") if input_opening is not None
                   else new_seed())
    circuit = load_circuit(model_dir)
    weights = load_weights(model_dir)
    weights.check(circuit)
    batch = input_batch(inputs, circuit)
    try:
        published = (model_dir / COMMITMENT_FILE).read_bytes()
    except FileNotFoundError:
        raise ZkauditError(f"{model_dir / COMMITMENT_FILE} is missing", hint="recompile with `zkaudit compile`") from None
    salt = weight_salt(model_dir, published)
    samples = list(batch.samples)
    sizes_file = model_dir / "private" / "zk-bank-sizes.json"
    # the prover (and numba with it) only once the inputs are read: a usage
    # mistake is reported without its ~0.5 s of imports
    from zkaudit.statements.inference import witness as inference_witness
    from zkaudit.statements.inference.prover import prove_witness

    known = _load_bank_sizes(sizes_file)
    started = time.perf_counter()
    w = inference_witness.build(circuit, weights, samples, commit_input=commit_input)
    proof = prove_witness(w, weight_commitment=published, progress=progress, zero_knowledge=zero_knowledge,
                          input_opening=opening, weight_salt=salt)
    elapsed = time.perf_counter() - started
    _save_bank_sizes(sizes_file, known)
    committed = input_commitment(circuit, samples, opening) if commit_input else None
    if out is not None:
        files = {out: proof}
        if commitment_path is not None:
            files[commitment_path] = committed
        if opening_path is not None:
            files[opening_path] = opening
        write_files(files)
        if opening_path is not None:
            opening_path.chmod(0o600)
    # one sample: its outputs are the witness's (the circuit ran once, not
    # again: 1.4 s of big_cnn's proof); a batch's are per sample
    doc = (output_doc(circuit, {spec.name: w.env[spec.name] for spec in circuit.outputs})
           if len(samples) == 1 and not batch.batched
           else sample_outputs(circuit, weights, samples, batch.batched))
    return Proof(proof=proof, digest=doc["digest"], output=doc["output"], output_int=doc["output_int"],
                 outputs=doc["outputs"], batch=len(samples), batched=batch.batched, prove_seconds=elapsed,
                 input_commitment=committed, path=out, input_commitment_path=commitment_path,
                 input_opening=opening, input_opening_path=opening_path)


def _load_bank_sizes(path: Path) -> dict:
    """The randomness each earlier zero-knowledge proof of this model needed
    (its bank), so this one commits to exactly that much: a bank sized by
    the first-proof estimate is up to twice as large (a larger commitment
    and opening). A missing or unreadable file only costs that."""
    import json

    from zkaudit.statements.inference.prover import known_bank_sizes, remember_bank_sizes

    try:
        doc = json.loads(path.read_text())
        remember_bank_sizes({(d, int(b), bool(c)): int(n) for d, b, c, n in doc["sizes"]})
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return known_bank_sizes()


def weight_salt(model_dir, published: bytes):
    """The salt of a model folder's hashed weight commitment
    (private/weights.salt) that `published` names, None for a plain one:
    what `zkaudit.statements.inference.prover.prove(..., weight_salt=)`
    needs for a model compiled with the default commitment."""
    model_dir = Path(model_dir)
    from zkaudit.hash.commitment import is_hashed_commitment, salt_from_bytes
    from zkaudit.statements.inference.commitment import SALT_FILE

    if not is_hashed_commitment(published):
        return None
    try:
        return salt_from_bytes((model_dir / SALT_FILE).read_bytes())
    except FileNotFoundError:
        raise ZkauditError(f"{model_dir / SALT_FILE} is missing: the model's weight commitment is a hashed one, "
                           "and proving against it needs the salt it was made with",
                           hint="prove from the folder `zkaudit compile` wrote") from None
    except ProofRejected as exc:
        raise ZkauditError(f"{model_dir / SALT_FILE}: {exc}") from None


def _save_bank_sizes(path: Path, before: dict) -> None:
    import json

    from zkaudit.statements.inference.prover import known_bank_sizes

    now = known_bank_sizes()
    if now == before or not path.parent.is_dir():
        return
    try:
        write_files({path: json.dumps({"sizes": [[d, b, c, n] for (d, b, c), n in sorted(now.items())]}).encode()})
    except OSError:
        pass  # a read-only model folder: the next proof estimates again


def commit_input(model_dir, inputs, *, out=None, force: bool = False, opening=None) -> bytes:
    """The commitment `prove(..., commit_input=True)` binds the proof to;
    written to `out` when given. With `opening` (bytes or the
    .input-opening file beside a zero-knowledge proof) it is the hiding
    commitment of that proof, recomputed; without, the plain (binding, not
    hiding) one of plain proofs."""
    from zkaudit.circuit import load_circuit
    from zkaudit.statements.inference.commitment import input_commitment

    if out is not None:
        check_out_file(Path(out), force)
    circuit = load_circuit(Path(model_dir))
    seed = _bytes(opening, "input opening", "the .input-opening file beside the proof") if opening is not None else None
    commitment = input_commitment(circuit, list(input_batch(inputs, circuit).samples), seed)
    if out is not None:
        write_files({Path(out): commitment})
    return commitment


# -- verify --------------------------------------------------------------------

def verify(proof, *, circuit=None, registry=None, model: str | None = None, inputs=None,
           input_commitment=None, input_opening=None) -> Verification:
    """Check `proof` (bytes or a path) against a compiled model folder
    (`circuit=DIR`, reads DIR/public/) or a registry entry (`model=
    "NAME@VERSION"` or `"NAME@latest"`, in `registry`, default
    $ZKAUDIT_REGISTRY_URL or ./zkaudit-registry.db). With `inputs` or
    `input_commitment` (bytes or a path) the proof must be about exactly
    that input; a zero-knowledge proof's committed input is recomputed from
    `inputs` with `input_opening` (bytes or a path: the secret seed
    `prove(commit_input=True)` wrote beside the proof). A rejected proof is a `Verification` with valid=False and
    the reason; usage mistakes (a missing file, an unknown model) raise
    `ZkauditError`."""
    if (circuit is None) == (model is None):
        raise ZkauditError("give exactly one of circuit=DIR or model=NAME@VERSION")
    if registry is not None and model is None:
        raise ZkauditError("registry= needs model=NAME@VERSION")
    data = _bytes(proof, "proof file", "the file `zkaudit prove --out` wrote")
    opening = (_bytes(input_opening, "input opening", "the .input-opening file `zkaudit prove --commit-input` "
                      "wrote beside the proof") if input_opening is not None else None)
    expected = (_bytes(input_commitment, "input commitment", "the file `zkaudit commit-input --out` wrote")
                if input_commitment is not None else None)
    read = None
    if inputs is not None:
        if isinstance(inputs, (str, Path)) and not Path(inputs).is_file():
            raise ZkauditError(f"input file not found: {inputs} (inputs take a record as JSON: "
                               "{\"inputs\": {NAME: values}} or {\"input_data\": [[...]]})")

        def read(circ):  # quantized with the circuit the proof is checked against
            return list(input_batch(inputs, circ).samples)

    ref = None
    if circuit is not None:
        circuit = Path(circuit)
        if not circuit.is_dir():
            raise ZkauditError(f"compiled model directory not found: {circuit} (write one with "
                               f"`zkaudit compile MODEL.onnx --out {circuit}`)")
        pub = circuit / "public"
        try:
            circuit_bin, commitment = (pub / "circuit.bin").read_bytes(), (pub / "weights.commitment").read_bytes()
        except FileNotFoundError as exc:
            raise ZkauditError(f"{circuit} is not a compiled model directory: missing {exc.filename} (write one "
                               f"with `zkaudit compile MODEL.onnx --out {circuit}`)") from None
        from zkaudit.statements.verify import verify_proof

        verdict = verify_proof(data, circuit_bin=circuit_bin, weight_commitment=commitment,
                               input_commitment=expected, inputs=read, input_opening=opening)
    else:
        from zkaudit.registry.remote import open_registry  # a database, or https://... (verified here)

        reg = open_registry(registry)
        name, version = resolve_model_ref(reg, model)
        ref = f"{name}@{version}"
        if opening is not None and read is not None:
            # a zero-knowledge proof's hiding input commitment, recomputed here from the record and
            # its opening: the opening never leaves this machine (the registry gets the commitment)
            from zkaudit.circuit.encoding import decode_circuit
            from zkaudit.statements.inference.commitment import input_commitment as commit_record

            circ = decode_circuit(reg.artifacts(name, version)[0])
            mine = commit_record(circ, read(circ), opening)
            if expected is not None and expected != mine:
                raise ZkauditError("--input-commitment and --input with --input-opening name different inputs")
            expected, read = mine, None
        verdict = reg.check(model=name, version=version, proof=data, input_commitment=expected, inputs=read)
        circuit_bin = reg.artifacts(name, version)[0] if verdict.valid else None
        if not verdict.valid:
            verdict = _name_the_other_model(reg, verdict)
    fields = dict(valid=verdict.valid, reason=verdict.reason, statement=verdict.statement,
                  input_commitment=verdict.input_commitment, soundness_bits=verdict.soundness_bits,
                  privacy=getattr(verdict, "privacy", None),
                  verifier_version=verdict.verifier_version, model=ref)
    if verdict.valid and verdict.statement == "inference":
        fields.update(_dequantized(circuit_bin, verdict.output))
    elif verdict.valid:
        fields["output"] = verdict.output
    return Verification(**fields)


def _name_the_other_model(reg, verdict):
    """A proof for another model is rejected naming its circuit digest; say
    which registered version that digest belongs to, when one does."""
    import dataclasses
    import re

    found = re.search(r"made for a different model: its circuit digest is ([0-9a-f]{16})", verdict.reason)
    if not found:
        return verdict
    matches = []
    for m in reg.list_models():
        for v in reg.show_model(m["name"])["versions"]:
            if v["circuit_digest"].startswith(found.group(1)):
                matches.append(f"{v['model']}@{v['version']}")
    hint = (f"; that digest is {', '.join(matches)} in this registry" if matches
            else "; no version in this registry has that digest")
    return dataclasses.replace(verdict, reason=verdict.reason + hint)


def resolve_model_ref(reg, ref: str) -> tuple[str, str]:
    """'NAME@VERSION' -> (name, version): an exact version first; 'NAME@latest'
    the most recently published version that is not revoked; 'NAME@ALIAS'
    the version the model's vendor last pointed ALIAS at (`registry alias
    set`; `registry/aliases.py`). An alias on a revoked version is refused
    naming the revocation."""
    from zkaudit.registry.aliases import resolve_ref
    from zkaudit.registry.errors import NotFound
    from zkaudit.registry.views import parse_ref

    name, version = parse_ref(ref)
    try:
        return resolve_ref(reg, ref)
    except NotFound:  # an unknown model: the version lookup that follows names NAME@VERSION and what exists
        return name, version


def _dequantized(circuit_bin: bytes, ints: dict) -> dict:
    """Proven integers -> the fields of `Proof`: per sample when the proof
    is about a batch (its outputs carry the batch on axis 0)."""
    import numpy as np

    from zkaudit.circuit import decode_circuit

    circuit = decode_circuit(circuit_bin)
    arrays = {k: np.asarray(v, dtype=np.int64) for k, v in ints.items()}
    first = circuit.outputs[0]
    n = arrays[first.name].shape[0] // first.shape[0] if first.shape and first.shape[0] else 1
    if n <= 1:
        doc = output_doc(circuit, arrays)
        return {"output": doc["output"], "output_int": doc["output_int"], "outputs": doc["outputs"], "batch": 1,
                "circuit_digest": doc["digest"]}
    per = [output_doc(circuit, {k: np.split(v, n)[i] for k, v in arrays.items()}) for i in range(n)]
    outputs = {s.name: {"output": [p["outputs"][s.name]["output"] for p in per],
                        "output_int": [p["outputs"][s.name]["output_int"] for p in per]} for s in circuit.outputs}
    return {"output": [p["output"] for p in per], "output_int": [p["output_int"] for p in per], "outputs": outputs,
            "batch": n, "circuit_digest": per[0]["digest"]}


# -- files ---------------------------------------------------------------------

def _bytes(value, what: str, hint: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    path = Path(value)
    if path.is_dir():
        raise ZkauditError(f"{path} is a directory, expected the {what}")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ZkauditError(f"{what} not found: {path} ({hint})") from None


def check_out_file(out: Path, force: bool, what: str = "--out") -> None:
    """Before any work: the folder must exist, `out` must not be a folder,
    and an existing file is replaced only with `force` (a proof is never
    silently overwritten)."""
    if not out.parent.is_dir():
        raise ZkauditError(f"the {what} folder does not exist: {out.parent} (create it first)")
    if out.is_dir() and not out.is_symlink():
        raise ZkauditError(f"{what} {out} is a folder; give a file name, e.g. {out / 'proof.zkp'}")
    if (out.exists() or out.is_symlink()) and not force:
        raise ZkauditError(f"{what} {out} already exists", hint="pass --force to replace it, or choose another --out")


def write_files(files: dict) -> None:
    """Write every file beside its destination, then rename each into place
    (a link at the destination is replaced, never written through). Nothing
    half-written stays behind, on success or failure."""
    import os
    import secrets

    staged: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            # O_EXCL: never through a link; mode 0o666 under the umask, as a plain write would be
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            staged[path] = tmp
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        for path, tmp in staged.items():
            tmp.replace(path)
    finally:
        for tmp in staged.values():
            if tmp.exists():
                tmp.unlink()


def short_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]

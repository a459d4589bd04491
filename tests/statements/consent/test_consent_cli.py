"""The CLI journey: keys, `data commit`, `consent commit` (twice, the second
superseding the first), `prove-consent`, `verify-consent`; bad input exits 2
with row and column and writes nothing; a tampered proof exits 1. Each
consent proof opens its own consent commitment (`--consent-uses`,
`--dataset-use`); reopening one is refused with one line, nothing written."""

from __future__ import annotations

import json
import secrets

from zkaudit.cli.main import main
from zkaudit.registry.keys import KeyPair, write_keystore

SCHEMA = {"columns": [{"name": "pid", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
          "id_column": "pid", "population": "synthetic"}


def _json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_cli_journey(tmp_path, capsys):
    custodian, irb = tmp_path / "hospital.key", tmp_path / "irb.key"
    write_keystore(custodian, KeyPair.generate("hospital"))
    write_keystore(irb, KeyPair.generate("irb-a"))
    ids = [secrets.token_hex(16) for _ in range(30)]
    (tmp_path / "ids.csv").write_text("pid\n" + "\n".join(ids) + "\n")
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "data.csv").write_text("pid,age\n" + "\n".join(f"{i},{40 + k}" for k, i in enumerate(ids[:8])) + "\n")

    assert main(["data", "commit", str(tmp_path / "data.csv"), "--schema", str(tmp_path / "schema.json"),
                 "--key", str(custodian), "--out", str(tmp_path / "DS"), "--consent-uses", "4", "--json"]) == 0
    ds = _json(capsys)
    assert ds["rows"] == 8 and ds["signer"] == "hospital" and ds["hiding"] is True and ds["consent_uses"] == 4
    assert main(["consent", "commit", str(tmp_path / "ids.csv"), "--key", str(irb), "--purpose", "train:x",
                 "--out", str(tmp_path / "CT1"), "--json"]) == 0
    assert _json(capsys)["version"] == 1
    (tmp_path / "ids2.csv").write_text("pid\n" + "\n".join(ids[1:]) + "\n")
    assert main(["consent", "commit", str(tmp_path / "ids2.csv"), "--key", str(irb), "--purpose", "train:x",
                 "--supersedes", str(tmp_path / "CT1"), "--out", str(tmp_path / "CT2")]) == 0
    assert "committed consent table v2" in capsys.readouterr().out

    proof = tmp_path / "consent.zkp"
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT1"),
                 "--out", str(proof), "--unique-ids"]) == 0
    out = capsys.readouterr().out
    assert "zero-knowledge yes" in out and "NOT ZERO-KNOWLEDGE" not in out and "purpose       train:x" in out
    assert oct((tmp_path / "DS" / "opening.npz").stat().st_mode & 0o777) == "0o600"
    assert main(["verify-consent", str(proof), "--dataset", str(tmp_path / "DS"), "--consent",
                 str(tmp_path / "CT1")]) == 0
    assert "zero-knowledge yes" in capsys.readouterr().out
    assert main(["verify-consent", str(proof), "--dataset", str(tmp_path / "DS"), "--consent",
                 str(tmp_path / "CT1"), "--json"]) == 0
    v = _json(capsys)
    assert v["valid"] and v["statement"]["table_version"] == 1 and v["statement"]["unique_ids"] is True
    assert v["zero_knowledge"] is True and v["warning"] is None
    assert v["statement"]["dataset_use"] == 0 and v["statement"]["dataset_uses"] == 4
    # a second zero-knowledge proof opens the next consent commitment (use 1), recorded in the ledger
    again = tmp_path / "again.zkp"
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT1"),
                 "--out", str(again), "--json"]) == 0
    made = _json(capsys)
    assert made["warning"] is None and made["statement"]["dataset_use"] == 1
    assert made["statement"]["dataset_commitment"] != v["statement"]["dataset_commitment"]
    assert main(["verify-consent", str(again), "--dataset", str(tmp_path / "DS"), "--json"]) == 0
    assert _json(capsys)["statement"]["dataset_use"] == 1
    ledger = tmp_path / "DS" / "consent-uses.json"
    assert sorted(json.loads(ledger.read_text())) == ["0", "1"]
    assert oct(ledger.stat().st_mode & 0o777) == "0o600"
    # reopening use 1: one line, exit 2, nothing written (no proof, ledger unchanged)
    before = ledger.read_bytes()
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT1"),
                 "--out", str(tmp_path / "re.zkp"), "--dataset-use", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "consent commitment 1 of the dataset is already opened" in err and "--consent-uses" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "re.zkp").exists() and ledger.read_bytes() == before
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT1"),
                 "--out", str(tmp_path / "re.zkp"), "--dataset-use", "4"]) == 2
    assert "use 4 does not exist" in capsys.readouterr().err and not (tmp_path / "re.zkp").exists()
    # the plain proof only on request, and it says so when made and when verified
    plain = tmp_path / "plain.zkp"
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT1"),
                 "--out", str(plain), "--no-zero-knowledge"]) == 0
    assert "NOT ZERO-KNOWLEDGE (--no-zero-knowledge)" in capsys.readouterr().out
    assert main(["verify-consent", str(plain)]) == 0
    out = capsys.readouterr().out
    assert "zero-knowledge no" in out and "NOT ZERO-KNOWLEDGE" in out
    assert v["statement"]["dataset"] == ds["record_digest"]
    # against v2 (a superseded table): refused, exit 1
    assert main(["verify-consent", str(proof), "--consent", str(tmp_path / "CT2"), "--json"]) == 1
    assert "another consent table or version" in _json(capsys)["reason"]
    # v2 no longer holds ids[0], a record of the dataset: proving fails with the row
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT2"),
                 "--out", str(tmp_path / "p2")]) == 2
    assert "row 1" in capsys.readouterr().err and not (tmp_path / "p2").exists()
    assert sorted(json.loads(ledger.read_text())) == ["0", "1", "2"]  # a failed proof opens nothing
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT1"),
                 "--out", str(tmp_path / "last.zkp"), "--json"]) == 0
    assert _json(capsys)["statement"]["dataset_use"] == 3
    # every consent commitment is opened: the next proof is refused, with the fix
    assert main(["prove-consent", "--dataset", str(tmp_path / "DS"), "--consent", str(tmp_path / "CT1"),
                 "--out", str(tmp_path / "more.zkp")]) == 2
    err = capsys.readouterr().err.strip()
    assert "all 4 consent commitment(s) of the dataset are already opened" in err and "--consent-uses K" in err
    assert not (tmp_path / "more.zkp").exists()
    data = bytearray(proof.read_bytes())
    data[len(data) // 3] ^= 1
    proof.write_bytes(bytes(data))
    assert main(["verify-consent", str(proof)]) == 1


def test_bad_cell_exits_2_and_writes_nothing(tmp_path, capsys):
    key = tmp_path / "hospital.key"
    write_keystore(key, KeyPair.generate("hospital"))
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    rows = [f"{secrets.token_hex(16)},{a}" for a in (30, 40, 130)]
    (tmp_path / "data.csv").write_text("pid,age\n" + "\n".join(rows) + "\n")
    assert main(["data", "commit", str(tmp_path / "data.csv"), "--schema", str(tmp_path / "schema.json"),
                 "--key", str(key), "--out", str(tmp_path / "DS")]) == 2
    assert "row 3, column age: 130 is outside the declared range [0, 120]" in capsys.readouterr().err
    assert not (tmp_path / "DS").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".DS")] == []

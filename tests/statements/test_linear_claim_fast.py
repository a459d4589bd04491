"""The verifier's claims on advice as linear claims on the hiding commitment
(`statements.inference.zk.linear_claim`): the one-pad fast path builds the
same LinearClaim, field for field and byte for byte, as the general path."""

from __future__ import annotations

import random

import pytest

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.statements.inference import zk


def _rand(rng) -> Fp2:
    return Fp2(rng.randrange(P), rng.randrange(P))


@pytest.mark.parametrize("seed", range(5))
def test_one_pad_fast_path_equals_the_reference(seed):
    rng = random.Random(seed)  # test data only
    for coeff in (_rand(rng), Fp2(P - 1, 0), Fp2(0, 1), Fp2(1, P - 1)):
        value = Hidden(_rand(rng), ((("advice", rng.randrange(1 << 20)), coeff),))
        claim = TensorClaim("t", tuple(_rand(rng) for _ in range(rng.randrange(1, 12))), value)
        fast = zk.linear_claim(3, 17, "advice", claim)
        ref = zk.linear_claim_reference(3, 17, "advice", claim)
        assert fast == ref and fast.to_bytes() == ref.to_bytes()


def test_other_shapes_take_the_general_path():
    rng = random.Random(9)  # test data only
    two = Hidden(_rand(rng), ((("advice", 4), _rand(rng)), (("advice", 9), _rand(rng))))
    base_point = (Fp(5), _rand(rng))
    for value, point in ((two, (_rand(rng),)), (Hidden(_rand(rng), ((("advice", 2), _rand(rng)),)), base_point),
                         (_rand(rng), (_rand(rng),))):
        claim = TensorClaim("t", point, value)
        assert zk.linear_claim(0, 1, "advice", claim) == zk.linear_claim_reference(0, 1, "advice", claim)
    with pytest.raises(ValueError, match="bank"):  # a pad from another bank is refused on both paths
        zk.linear_claim(0, 1, "advice", TensorClaim("t", (_rand(rng),), Hidden(Fp2(1), ((("input", 0), Fp2(1)),))))

"""Public shape of one Conv node and the wire type of its reduction:
    u8 has_bias | [Fp2 bias~(r_o)] | sum-check (kernel) |
    u8 grouped  | [sum-check (output channels)] | sum-check (input)."""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.sumcheck.proof import SumcheckProof


@dataclass(frozen=True)
class ConvShape:
    """Everything public about one Conv node that its proof depends on.
    X: (batch, in_channels, in_h, in_w); W: (out_channels, in_channels/group,
    kernel_h, kernel_w); Y: (batch, out_channels, out_h, out_w)."""

    batch: int
    in_channels: int
    in_h: int
    in_w: int
    out_channels: int
    kernel_h: int
    kernel_w: int
    out_h: int
    out_w: int
    group: int
    strides: tuple[int, int]
    dilations: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    x_zero_point: int
    w_zero_point: int
    has_bias: bool

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.in_channels, self.in_h, self.in_w)

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.out_channels, self.group_in, self.kernel_h, self.kernel_w)

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.out_channels, self.out_h, self.out_w)

    @property
    def group_in(self) -> int:
        """Input channels per group (Cg)."""
        return self.in_channels // self.group

    @property
    def group_out(self) -> int:
        """Output channels per group (Mg)."""
        return self.out_channels // self.group

    def check(self) -> None:
        """Raise ValueError when the attributes do not describe a valid Conv."""
        if self.group < 1 or self.in_channels % self.group or self.out_channels % self.group:
            raise ValueError(f"group {self.group} does not divide channels {self.in_channels} -> {self.out_channels}")
        if min(self.strides) < 1 or min(self.dilations) < 1 or min(self.pads) < 0:
            raise ValueError(f"bad strides {self.strides}, dilations {self.dilations} or pads {self.pads}")
        for size, k, s, d, lo, hi, out in (
            (self.in_h, self.kernel_h, self.strides[0], self.dilations[0], self.pads[0], self.pads[2], self.out_h),
            (self.in_w, self.kernel_w, self.strides[1], self.dilations[1], self.pads[1], self.pads[3], self.out_w),
        ):
            expect = (size + lo + hi - d * (k - 1) - 1) // s + 1
            if expect != out or out < 1:
                raise ValueError(f"output size {out} differs from the attributes' {expect}")


def conv_shape(node, specs) -> ConvShape:
    """The ConvShape of an IR Conv node (specs: tensor name -> TensorSpec)."""
    from zkaudit.layers.shapes import UnsupportedLayer

    x, w, y = specs[node.inputs[0]].shape, specs[node.inputs[1]].shape, specs[node.output].shape
    if len(x) != 4 or len(w) != 4 or len(y) != 4:
        raise UnsupportedLayer(f"node {node.name!r} (Conv): only 2-D convolutions (4-D tensors) are proven, "
                         f"got X {x}, W {w}, Y {y}")
    a = node.a
    shape = ConvShape(x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3], int(a.get("group", 1)),
                      tuple(a.get("strides", (1, 1))), tuple(a.get("dilations", (1, 1))),
                      tuple(a.get("pads", (0, 0, 0, 0))), int(a.get("x_zero_point", 0)),
                      int(a.get("w_zero_point", 0)), len(node.inputs) == 3)
    if w[1] * shape.group != x[1] or y[0] != x[0] or y[1] != w[0]:
        raise ValueError(f"node {node.name!r} (Conv): shapes X {x}, W {w}, Y {y} disagree with group {shape.group}")
    shape.check()
    return shape


def _read_flag(data: bytes, offset: int, what: str) -> tuple[bool, int]:
    if offset >= len(data):
        raise MalformedProof(f"conv proof truncated at its {what} flag", expected=offset + 1, got=len(data))
    flag = data[offset]
    if flag not in (0, 1):
        raise MalformedProof(f"conv proof has a bad {what} flag", expected="0 or 1", got=flag)
    return bool(flag), offset + 1


@dataclass(frozen=True)
class ConvProof:
    bias_value: Fp2 | None
    kernel_sumcheck: SumcheckProof  # over (group, in-channel-in-group, kh, kw)
    channel_sumcheck: SumcheckProof | None  # over output channels; only when group > 1
    input_sumcheck: SumcheckProof  # over X's variables

    def to_bytes(self) -> bytes:
        parts = [b"\x00" if self.bias_value is None else b"\x01" + self.bias_value.to_bytes()]
        parts.append(self.kernel_sumcheck.to_bytes())
        parts.append(b"\x00" if self.channel_sumcheck is None else b"\x01" + self.channel_sumcheck.to_bytes())
        parts.append(self.input_sumcheck.to_bytes())
        return b"".join(parts)

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[ConvProof, int]:
        has_bias, offset = _read_flag(data, offset, "bias")
        bias = None
        if has_bias:
            if offset + BYTES_EXT > len(data):
                raise MalformedProof("conv proof truncated in its bias value", expected=offset + BYTES_EXT,
                                     got=len(data))
            bias = Fp2.from_bytes(data[offset : offset + BYTES_EXT])
            offset += BYTES_EXT
        kernel, offset = SumcheckProof.read(data, offset)
        grouped, offset = _read_flag(data, offset, "group")
        channel = None
        if grouped:
            channel, offset = SumcheckProof.read(data, offset)
        inp, offset = SumcheckProof.read(data, offset)
        return cls(bias, kernel, channel, inp), offset

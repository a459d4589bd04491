"""The table of importable ops: (domain, op_type) -> function named as the op,
and for people, what each becomes in the circuit IR and what it refuses
(`OP_NOTES`; the README's table is `ops_markdown()`, kept in sync by
tests/onnx/test_readme_ops.py, which prints the current table when they differ).

Besides these, `Constant` and any node whose inputs are all constants (any
op) are evaluated at import time; they cost nothing in the circuit."""

from zkaudit.onnx import ml_trees, ops_elementwise, ops_integer, ops_linear, ops_pool, ops_recurrent, ops_reduce, ops_shape

OPS = {**ops_linear.OPS, **ops_elementwise.OPS, **ops_shape.OPS, **ops_pool.OPS, **ops_reduce.OPS,
       **ops_recurrent.OPS, **ops_integer.OPS, **ml_trees.OPS}

_ONNX, _MS, _ML = "ai.onnx", "com.microsoft", "ai.onnx.ml"
_TABLE = "Table (lookup over the input's integer range)"
_NCHW_2D = "4-D NCHW input, 2-D kernel"
_PER_TENSOR = "per-tensor scales and zero points"
_SELECT = "Gather (an index map: same integers, scale and zero point)"
_CONST_IDX = "constant indices"
_COMPARE_NOTE = ("Table to 0/1 (ONNX bool): of the operand against a constant scalar, or of the difference of two "
                 "computed operands (Sub at a common scale)")
_COMPARE_LIMIT = "a constant operand is a scalar; the difference of two operands spans at most 2^16 integers"
_NORM = ("MatMul by the constant centring matrix K*I - 1 (exact mean), Requantize, Mul (squares), MatMul by a ones "
         "column, Requantize onto 2^14 steps, Table (1/sqrt(var + eps)), Expand, Mul, Requantize (int16), then the "
         "scale and bias per channel as a depthwise 1x1 Conv + Requantize")
_RNN = ("MatMul (int8 weights per gate) for input and hidden state each step, unrolled over the sequence, Add + "
        "Requantize onto a 10-bit grid over [-8, 8], Table (sigmoid, tanh), Mul; Y by Concat")
_RNN_LIMIT = ("constant W, R, B; layout 0; activations Sigmoid and Tanh; no clip; sequence_lens, if given, the full "
              "length")
_TREES = ("PointerWalk along each tree's path over its real nodes: the nodes of all trees as committed tables "
          "(feature, threshold on the input's grid, true child; leaf values), every node's test at once (GatherRows "
          "of the input's features, Sub, Clip: a range check) giving each node's successor, every tree's walk of "
          "depth steps from its root in one PointerWalk (all steps in one LogUp against the successor table: cost "
          "nodes + trees x depth), the reached leaves' values by GatherRows and summed by a MatMul")
_TREES_LIMIT = (f"one input row (1, F); depth <= {ml_trees.MAX_PATH_DEPTH}, at most {ml_trees.MAX_PATH_NODES} nodes "
                "in all (no padding to complete trees); node modes BRANCH_LEQ, LT, GTE, GT")
_INT_DIV = ("Relu and Sub (positive and negative parts), Add + Requantize (exact floor division by a constant "
            "abs(c), its remainder range-checked), {rest}; of two computed tensors, a Table over the pair "
            "(Requantize + Add index it)")
_INT_DIV_LIMIT = ("a scalar integer constant divisor, or two computed tensors whose ranges hold at most 2^16 pairs "
                  "(a divisor of 0 reads 0); no quotient outside the dividend's integer type")
_NORM_LIMIT = "K values per row with 2*K^2*(input range) < 2^31 (K <= ~2000 for int8)"

# (domain, op) -> (what it becomes in the circuit IR, restrictions beyond ONNX's own)
OP_NOTES: dict[tuple[str, str], tuple[str, str]] = {
    (_ONNX, "Add"): (("Add + Requantize (operands of different scales first moved to a common finer scale; "
                      "a computed operand of a smaller shape broadcast by Expand)"),
                     "quantized float operands (a constant operand becomes an int8 weight of the output's shape)"),
    (_ONNX, "ArgMax"): ("ArgMax on the integers (order-preserving)", ""),
    (_ONNX, "AveragePool"): ("AveragePool, keeping the input's scale", f"{_NCHW_2D}; no ceil_mode, no dilations"),
    (_ONNX, "ArgMin"): ("Table (q -> 2zp - q, exact) + ArgMax", "an input range of at most 2^16 integers"),
    (_ONNX, "BatchNormalization"): (("nothing: folded into the Conv/Gemm before it; elsewhere (e.g. left in "
                                     "float by onnxruntime's quantizer, or after a Relu) a depthwise 1x1 Conv + "
                                     "Requantize (other ranks reshaped to N, C, *, 1)"),
                                    "constant parameters, inference mode"),
    (_ONNX, "Cast"): ("nothing: to a float type, integers (a 0/1 mask) become reals of scale 1; integer to integer "
                      "keeps them", "no cast of a quantized float to an integer or bool type"),
    (_ONNX, "Clip"): ("Clip (nothing when the producer already saturates there)", "constant min/max"),
    (_ONNX, "Concat"): ("Concat (+ Requantize of inputs whose scale differs from the output's)", ""),
    (_ONNX, "Conv"): (("Conv (int8 weights per output channel, int32 accumulator) + Requantize; a padding as "
                       "wide as the window becomes an explicit Pad (windows with no input give the bias)"),
                      f"{_NCHW_2D}, constant weights"),
    (_ONNX, "ConvTranspose"): (("Conv on the input zero-stuffed and padded by index maps (Reshape, Pad), "
                                "flipped regrouped weights, + Requantize"),
                               ("1-D or 2-D kernel (N, C, L) or NCHW input, constant weights; large pads crop "
                                "the output by a Gather index map")),
    (_ONNX, "DepthToSpace"): ("Reshape + Transpose + Reshape", "4-D NCHW input"),
    (_ONNX, "ConvInteger"): ("Conv (int32 output)", f"{_NCHW_2D}, constant weights, scalar input zero point"),
    (_ONNX, "DequantizeLinear"): ("nothing: gives an integer tensor its scale; on an initializer, a quantized weight",
                                  "no block_size; a per-axis scale only on constants"),
    (_ONNX, "Div"): ("nothing for a positive scalar divisor (it rescales the input's scale); "
                      "otherwise Mul by the reciprocal (a constant, or a Table of 1/y for a computed y) + Requantize; "
                      "of integers: " + _INT_DIV.format(rest="Sub, Clip to the quotient's range"),
                      "quantized float operands: 1/y saturates where abs(x/y) exceeds the output's range; integers: "
                      + _INT_DIV_LIMIT),
    (_ONNX, "Mod"): (_INT_DIV.format(rest="Requantize by abs(c) (exact), Sub, Clip to the remainder's range"),
                     "integer operands (fmod 0 or 1); " + _INT_DIV_LIMIT),
    (_ONNX, "Dropout"): ("nothing (identity at inference)", "no mask output, training_mode off"),
    (_ONNX, "Where"): (("Sub, Mul by the 0/1 condition, Add (each + Requantize): b + c * (a - b); a Table of the "
                        "condition when a and b are constant scalars"), "a computed 0/1 condition"),
    (_ONNX, "Equal"): (_COMPARE_NOTE, _COMPARE_LIMIT),
    (_ONNX, "Greater"): (_COMPARE_NOTE, _COMPARE_LIMIT),
    (_ONNX, "GreaterOrEqual"): (_COMPARE_NOTE, _COMPARE_LIMIT),
    (_ONNX, "Less"): (_COMPARE_NOTE, _COMPARE_LIMIT),
    (_ONNX, "LessOrEqual"): (_COMPARE_NOTE, _COMPARE_LIMIT),
    (_ONNX, "Erf"): (_TABLE, "quantized float input"),
    (_ONNX, "Exp"): (_TABLE, "quantized float input"),
    (_ONNX, "Abs"): (_TABLE, "quantized float input"),
    (_ONNX, "Celu"): (_TABLE, "quantized float input"),
    (_ONNX, "Elu"): (_TABLE, "quantized float input"),
    (_ONNX, "HardSigmoid"): (_TABLE, "quantized float input"),
    (_ONNX, "HardSwish"): (_TABLE, "quantized float input"),
    (_ONNX, "Log"): (_TABLE, "quantized float input; log of x <= 0 saturates to the output's lowest value"),
    (_ONNX, "Mish"): (_TABLE, "quantized float input"),
    (_ONNX, "Neg"): (_TABLE, "quantized float input"),
    (_ONNX, "Pow"): (_TABLE, "quantized float base; a constant scalar exponent (NaN results give 0)"),
    (_ONNX, "PRelu"): (("Table for one slope value; otherwise Relu + Clip at the zero point, Mul by the slope "
                        "weight, Add (+ Requantize)"), "quantized float input; a constant slope"),
    (_ONNX, "Reciprocal"): (_TABLE, "quantized float input; 1/0 saturates to the output's range"),
    (_ONNX, "Round"): (_TABLE, "quantized float input; halves to even"),
    (_ONNX, "Selu"): (_TABLE, "quantized float input"),
    (_ONNX, "Sign"): (_TABLE, "quantized float input"),
    (_ONNX, "Softplus"): (_TABLE, "quantized float input"),
    (_ONNX, "Softsign"): (_TABLE, "quantized float input"),
    (_ONNX, "Sqrt"): (_TABLE, "quantized float input; negative inputs give 0 (ONNX: NaN)"),
    (_ONNX, "Expand"): ("Expand (an index map: each output cell reads one input cell)", "constant target shape"),
    (_ONNX, "Flatten"): ("Reshape (nothing if the shape is unchanged)", ""),
    (_ONNX, "Gather"): (_SELECT + "; Reshape for the indices' shape. From a constant table by computed indices "
                        "(an embedding): GatherRows of the int8 table (a committed weight; one lookup, N + V "
                        "cells) + Requantize, after a Table (index mod V) when the indices can be negative (a "
                        "one-hot MatMul where that range exceeds 2^16)",
                        f"{_CONST_IDX} into computed data, or computed integer indices into a constant table along "
                        "axis 0 (an int32/int64 graph input used only so gets the range [-V, V-1])"),
    (_ONNX, "GatherElements"): ("Gather (an index map) over the flattened input",
                                _CONST_IDX),
    (_ONNX, "Gelu"): (_TABLE, "quantized float input; approximate none or tanh"),
    (_ONNX, "Gemm"): ("MatMul (int8 weights per output channel, int32 accumulator) + Requantize",
                      "A 2-D; B a constant weight; C a scalar or of shape (N,)"),
    (_ONNX, "GlobalAveragePool"): ("AveragePool over the whole map", "4-D NCHW input"),
    (_ONNX, "GlobalMaxPool"): ("MaxPool over the whole map", "4-D NCHW input"),
    (_ONNX, "Identity"): ("nothing", ""),
    (_ONNX, "GroupNormalization"): (_NORM, "quantized float input; constant scale and bias; " + _NORM_LIMIT),
    (_ONNX, "InstanceNormalization"): (_NORM, "quantized float input; constant scale and B; " + _NORM_LIMIT),
    (_ONNX, "LayerNormalization"): (_NORM.replace("per channel", "per normalized element"),
                                    "quantized float input; constant Scale and B; no Mean/InvStdDev outputs; "
                                    + _NORM_LIMIT),
    (_ONNX, "LeakyRelu"): (_TABLE, "quantized float input"),
    (_ONNX, "LSTM"): (_RNN + "; the cell state by Mul and Add", _RNN_LIMIT + "; constant peepholes P; input_forget 0"),
    (_ONNX, "GRU"): (_RNN + "; the update by Sub, Mul and Add", _RNN_LIMIT + "; linear_before_reset 0 or 1"),
    (_ONNX, "RNN"): (_RNN, _RNN_LIMIT),
    (_ONNX, "MatMul"): (("MatMul + Requantize (an A of rank > 2 flattened to rows by Reshape); of two computed "
                         "batched operands (attention's heads): Expand and Reshape to G rows of matrices, each taken "
                         "by a Gather (an index map), G MatMuls + "
                         "Requantize, Concat, Reshape"),
                        ("B a constant 2-D weight, or computed: 2-D, or batched with batch axes that broadcast "
                         "(G 2-D MatMuls)")),
    (_ONNX, "MatMulInteger"): ("MatMul (int32 output)", "B 2-D; scalar input zero points"),
    (_ONNX, "MaxPool"): ("MaxPool", f"{_NCHW_2D}; no Indices output"),
    (_ONNX, "Mul"): ("Mul + Requantize (a computed operand of a smaller shape broadcast by Expand)",
                     "quantized float operands"),
    (_ONNX, "Pad"): ("Pad", "mode=constant; non-negative pads"),
    (_ONNX, "ReduceL1"): ("Table (|q - zp|) + MatMul by a ones column + Requantize",
                          "quantized float input; constant axes"),
    (_ONNX, "ReduceL2"): (("Table ((q - zp)^2) + MatMul by a ones column + Requantize onto 2^14 steps + "
                           "Table (sqrt)"), "quantized float input; constant axes"),
    (_ONNX, "ReduceLogSumExp"): ("Table (exp) + MatMul by a ones column + Requantize onto 2^14 steps + Table (log)",
                                 "quantized float input; constant axes"),
    (_ONNX, "ReduceMax"): ("MaxPool with a (1, K) window over the reduced axes moved last", "constant axes"),
    (_ONNX, "ReduceMean"): ("MatMul by a ones column over the reduced axes moved last + Requantize (1/K)",
                            "quantized float input; constant axes"),
    (_ONNX, "ReduceMin"): ("Table (q -> 2zp - q) + MaxPool (1, K) + Table", "constant axes; an input range "
                           "of at most 2^16 integers"),
    (_ONNX, "ReduceSum"): ("MatMul by a ones column over the reduced axes moved last (+ Requantize)",
                           "constant axes"),
    (_ONNX, "ReduceSumSquare"): ("Table ((q - zp)^2) + MatMul by a ones column + Requantize",
                                 "quantized float input; constant axes"),
    (_ONNX, "Resize"): (("Expand (nearest, integer scales) or Gather, an index map (other nearest), or MatMul by "
                         "int8 interpolation weights + Requantize (linear, cubic), one per resized axis"),
                        "constant scales or sizes; no tf_crop_and_resize, keep_aspect_ratio_policy stretch"),
    (_ONNX, "ScatterElements"): (("Concat of data and updates, Gather (an index map; updates first requantized to the "
                                  "data's scale)"), f"{_CONST_IDX}; reduction none"),
    (_ONNX, "Slice"): (_SELECT + ", one per sliced axis", "constant starts, ends, axes and steps"),
    (_ONNX, "SpaceToDepth"): ("Reshape + Transpose + Reshape", "4-D NCHW input"),
    (_ONNX, "Split"): (_SELECT + ", one per output", "constant split sizes"),
    (_ONNX, "Tile"): ("Reshape + Expand + Reshape per repeated axis (index maps)", "constant repeats"),
    (_ONNX, "QLinearConv"): ("Conv + Requantize", (f"{_NCHW_2D}, constant weights; per-tensor activation "
                                                  "scales and zero points")),
    (_ONNX, "QLinearMatMul"): ("MatMul + Requantize", "B 2-D; per-tensor activation scales and zero points"),
    (_ONNX, "QuantizeLinear"): ("Requantize (nothing when the scale does not change)",
                                "constant per-tensor 8- or 16-bit parameters; no block_size"),
    (_ONNX, "Relu"): ("Relu (nothing when fused into the producer's Requantize)", ""),
    (_ONNX, "Reshape"): ("Reshape (nothing if the shape is unchanged)", "constant target shape"),
    (_ONNX, "Shape"): ("nothing: a constant, since shapes are fixed", ""),
    (_ONNX, "Sigmoid"): (_TABLE, "quantized float input"),
    (_ONNX, "Softmax"): ("Softmax (integer, exp by lookup table)", "quantized float input"),
    (_ONNX, "Squeeze"): ("Reshape (nothing if the shape is unchanged)", ""),
    (_ONNX, "Sub"): ("Sub + Requantize (as Add, broadcasting too)", "quantized float operands"),
    (_ONNX, "Tanh"): (_TABLE, "quantized float input"),
    (_ONNX, "TopK"): (("MaxPool (1, N) + ArgMax, k rounds, the taken cell pushed below the row by Expand, Sub, a "
                       "Table and Sub; Concat"), "constant k; sorted=1; an input range of at most 2^16 integers for "
                       "largest=0"),
    (_ONNX, "Transpose"): ("Transpose (nothing for the identity permutation)", ""),
    (_ONNX, "Unsqueeze"): ("Reshape", ""),
    (_ML, "TreeEnsembleClassifier"): (_TREES + "; labels by ArgMax (two classes: a Clip of the score margin, one leaf column "
                                      "committed), probabilities by a Sigmoid Table or Softmax",
                                      _TREES_LIMIT + "; post_transform NONE, LOGISTIC or SOFTMAX; "
                                      "integer class labels 0..k-1"),
    (_ML, "TreeEnsembleRegressor"): (_TREES, _TREES_LIMIT + "; aggregate SUM or AVERAGE"),
    (_MS, "QGemm"): ("MatMul + Requantize", "y_scale given (no float output)"),
    (_MS, "QLinearAdd"): ("Add + Requantize", _PER_TENSOR),
    (_MS, "QLinearAveragePool"): ("Conv with an all-ones kernel + Requantize",
                                  (f"{_NCHW_2D}; no channels_last or ceil_mode (padding with "
                                  "count_include_pad=0: AveragePool + Requantize)")),
    (_MS, "QLinearConcat"): ("Concat (+ Requantize of inputs whose scale differs)", ""),
    (_MS, "QLinearGlobalAveragePool"): ("Conv with an all-ones kernel + Requantize", "4-D NCHW; no channels_last"),
    (_MS, "QLinearLeakyRelu"): (_TABLE, _PER_TENSOR),
    (_MS, "QLinearMul"): ("Mul + Requantize", _PER_TENSOR),
    (_MS, "QLinearSigmoid"): (_TABLE, _PER_TENSOR),
    (_MS, "QLinearSoftmax"): ("Softmax (integer, exp by lookup table)", _PER_TENSOR),
}


_SKLEARN = ("of scikit-learn's ai.onnx.ml ops, zkaudit rewrites Scaler, LinearClassifier/LinearRegressor "
            "(integer class labels 0..k-1; post_transform NONE, LOGISTIC or SOFTMAX), Normalizer after a softmax, "
            "ZipMap, no-op Casts and ArrayFeatureExtractor on constant indices; see docs/bring-your-model.md")
_QUANT_STATIC = ("onnxruntime's quantize_dynamic picks activation scales from each input at run time, which a "
                 "fixed circuit cannot do: quantize with quantize_static and a calibration reader, or compile "
                 "the float model with --calibration")

# (domain, op) -> what to do about an op we do not import, where something is known to work.
FIXES: dict[tuple[str, str], str] = {
    (_ONNX, "DynamicQuantizeLinear"): _QUANT_STATIC,
    (_ONNX, "Cast"): ("a Cast from a quantized float to an integer or bool type is not supported; remove it from "
                      "the exported graph (casts to float and between integer types are)"),
    (_ONNX, "ReduceProd"): "not supported (a product of data-dependent factors)",
    (_ONNX, "Upsample"): "export with opset >= 10 so that it is written as Resize, which is supported",
}


def fix_for(domain: str, op: str, opset: int = 0) -> str | None:
    """The known fix for an op we refuse, or None."""
    if (domain, op) in FIXES:
        return FIXES[(domain, op)]
    if domain == _ML:
        return _SKLEARN
    return None


def supported_ops() -> list[str]:
    return sorted(op if d == "ai.onnx" else f"{d}:{op}" for d, op in OPS)


def ops_markdown() -> str:
    """The supported-ops table as Markdown, one row per importable op."""
    rows = ["| ONNX op | domain | becomes in the circuit | restrictions |", "|---|---|---|---|"]
    for domain, op in sorted(OPS, key=lambda k: (k[0] != _ONNX, k[1])):
        maps_to, limits = OP_NOTES.get((domain, op), ("?", "?"))
        rows.append(f"| {op} | {domain} | {maps_to} | {limits or '-'} |")
    return "\n".join(rows) + "\n"

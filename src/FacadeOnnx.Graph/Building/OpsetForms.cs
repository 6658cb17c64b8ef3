using Onnx;

namespace FacadeOnnx.Graph.Building;

/// <summary>
/// How the ai.onnx operators this project reads and writes changed between opset 11 and 21, in one table. The builder
/// emits the form of the model's own opset, shape inference and the gradient rules read the form a node has, and the
/// checker reports a node written in another opset's form. A backward pass is written at the model's opset rather than
/// raising the import, because raising it would change the meaning of the model's own Softmax and Squeeze nodes.
/// </summary>
public static class OpsetForms
{
    public const int Oldest = 11, Newest = 21;

    /// <summary>Operators whose list operand (axes, split sizes) moved from an attribute to an input, and from which opset.</summary>
    static readonly Dictionary<string, (string Name, int Since)> ListOperands = new()
    {
        ["Squeeze"] = ("axes", 13), ["Unsqueeze"] = ("axes", 13), ["ReduceSum"] = ("axes", 13), ["Split"] = ("split", 13),
        ["ReduceMean"] = ("axes", 18), ["ReduceMax"] = ("axes", 18), ["ReduceMin"] = ("axes", 18), ["ReduceProd"] = ("axes", 18),
        ["ReduceL1"] = ("axes", 18), ["ReduceL2"] = ("axes", 18), ["ReduceLogSum"] = ("axes", 18),
        ["ReduceLogSumExp"] = ("axes", 18), ["ReduceSumSquare"] = ("axes", 18),
    };

    /// <summary>ai.onnx operators added after opset 11, with the opset that added them.</summary>
    static readonly Dictionary<string, int> AddedAfterOldest = new()
    {
        ["Celu"] = 12, ["Einsum"] = 12, ["GreaterOrEqual"] = 12, ["LessOrEqual"] = 12, ["NegativeLogLikelihoodLoss"] = 12,
        ["SoftmaxCrossEntropyLoss"] = 12, ["HardSwish"] = 14, ["Trilu"] = 14, ["Bernoulli"] = 15, ["CastLike"] = 15,
        ["Optional"] = 15, ["OptionalGetElement"] = 15, ["OptionalHasElement"] = 15, ["GridSample"] = 16,
        ["LayerNormalization"] = 17, ["DFT"] = 17, ["STFT"] = 17, ["BlackmanWindow"] = 17, ["HammingWindow"] = 17,
        ["HannWindow"] = 17, ["MelWeightMatrix"] = 17, ["SequenceMap"] = 17, ["BitwiseAnd"] = 18, ["BitwiseNot"] = 18,
        ["BitwiseOr"] = 18, ["BitwiseXor"] = 18, ["CenterCropPad"] = 18, ["Col2Im"] = 18, ["GroupNormalization"] = 18,
        ["Mish"] = 18, ["DeformConv"] = 19, ["AffineGrid"] = 20, ["Gelu"] = 20, ["ImageDecoder"] = 20,
        ["RegexFullMatch"] = 20, ["StringConcat"] = 20, ["StringSplit"] = 20,
    };

    /// <summary>Softmax and LogSoftmax normalize along one axis (default -1); before, over a flattened block (default axis 1).</summary>
    public const int PerAxisSoftmaxSince = 13;
    /// <summary>Min and Max accept integer tensors (the Slice rule clamps shape values with them).</summary>
    public const int IntegerMinMaxSince = 12;
    /// <summary>Shape takes start and end attributes.</summary>
    public const int ShapeRangeSince = 15;
    /// <summary>ScatterND takes reduction="add".</summary>
    public const int ScatterAddSince = 16;

    /// <summary>The model's ai.onnx opset (0 when it imports none).</summary>
    public static int Of(ModelProto model) =>
        (int)(model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0);

    public static bool IsSupported(int opset) => opset is >= Oldest and <= Newest;

    /// <summary>Stops a model of another opset with a message saying what to export instead.</summary>
    public static void RequireSupported(int opset, string what)
    {
        if (IsSupported(opset)) return;
        string advice = opset < Oldest
            ? "export it again with opset_version=11 or newer (onnx.version_converter can also raise it)"
            : "export it again with opset_version=21 or older";
        throw new FacadeException($"{what} uses ai.onnx opset {opset}; the gradient export supports opsets {Oldest} to {Newest}: {advice}.");
    }

    /// <summary>The IR version ONNX released with an opset, so an old-opset file reads as one of its time.</summary>
    public static long IrVersionFor(int opset) => opset switch
    {
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    /// <summary>The opset that added an ai.onnx operator (<see cref="Oldest"/> for those older than that).</summary>
    public static int AddedIn(string op) => AddedAfterOldest.GetValueOrDefault(op, Oldest);

    public static bool Exists(string op, int opset) => opset >= AddedIn(op);

    /// <summary>Whether <paramref name="op"/> takes its axes (or split sizes) as an input at <paramref name="opset"/>.</summary>
    public static bool ListIsInput(string op, int opset) =>
        ListOperands.TryGetValue(op, out var list) ? opset >= list.Since
            : throw new ArgumentException($"{op} has no axes or split operand.", nameof(op));

    /// <summary>The name of an operator's list operand: "split" for Split, "axes" for the others.</summary>
    public static string ListName(string op) => ListOperands[op].Name;

    /// <summary>
    /// A node's axes (split sizes for Split) from the attribute or the input, whichever its opset uses; null when it
    /// gives none, or gives an input whose values <paramref name="constant"/> cannot tell.
    /// </summary>
    public static long[]? List(NodeProto n, int opset, Func<string, long[]?> constant)
    {
        if (!ListIsInput(n.OpType, opset)) return n.GetInts(ListOperands[n.OpType].Name);
        return n.Input.Count > 1 && n.Input[1] != "" ? constant(n.Input[1]) : null;
    }

    /// <summary>Whether a node gives its axes as an input (so they may be computed at run time).</summary>
    public static bool ListGivenAsInput(NodeProto n, int opset) =>
        ListIsInput(n.OpType, opset) && n.Input.Count > 1 && n.Input[1] != "";

    /// <summary>
    /// The axes a Softmax or LogSoftmax node normalizes over. Before opset 13 the input is coerced to 2-D at axis
    /// (default 1): dims [0, axis) become rows and the whole block [axis, rank) is normalized at once.
    /// </summary>
    public static long[] SoftmaxAxes(NodeProto n, int opset, Func<int> rank)
    {
        if (opset >= PerAxisSoftmaxSince) return [n.GetInt("axis", -1)];
        long axis = n.GetInt("axis", 1);
        if (axis < 0) return Enumerable.Range(0, (int)-axis).Select(i => axis + i).ToArray();
        int r = rank();
        return Enumerable.Range((int)axis, r - (int)axis).Select(i => (long)i).ToArray();
    }

    /// <summary>Why a standard node is not valid at <paramref name="opset"/>, or null when it is.</summary>
    public static string? Misfit(NodeProto n, int opset)
    {
        if (AddedIn(n.OpType) is var since && opset < since)
            return $"{n.Describe()} uses an operator added in opset {since}; the model imports opset {opset}.";
        if (ListOperands.TryGetValue(n.OpType, out var list))
        {
            bool asInput = n.Input.Count > 1 && n.Input[1] != "", asAttribute = n.Find(list.Name) != null;
            if (opset >= list.Since && asAttribute)
                return $"{n.Describe()} gives '{list.Name}' as an attribute; from opset {list.Since} (the model imports {opset}) it is an input.";
            if (opset < list.Since && asInput)
                return $"{n.Describe()} gives '{list.Name}' as an input; before opset {list.Since} (the model imports {opset}) it is an attribute.";
        }
        if (n.OpType == "Shape" && opset < ShapeRangeSince && (n.Find("start") ?? n.Find("end")) != null)
            return $"{n.Describe()} has start/end attributes, which Shape takes from opset {ShapeRangeSince}; the model imports {opset}.";
        if (n.OpType == "ScatterND" && opset < ScatterAddSince && n.Find("reduction") != null)
            return $"{n.Describe()} has a reduction, which ScatterND takes from opset {ScatterAddSince}; the model imports {opset}.";
        return null;
    }
}

using FacadeOnnx.Graph.Building;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Tests;

/// <summary>How a test input is filled.</summary>
public enum Fill { Normal, Positive, Away }   // Away: |x| >= 0.3, for kinks such as Relu

/// <summary>
/// An input of a one-node test graph: a float tensor fed at run time, or a constant initializer. A symbolic input is
/// declared with a named dimension per axis, so static shapes prove nothing and the rules take their run-time paths.
/// </summary>
public sealed record CaseInput(string Name, long[] Shape, Fill Fill = Fill.Normal, long[]? Ints = null, bool[]? Bools = null, bool Symbolic = false)
{
    public bool IsConstant => Ints != null || Bools != null;
}

/// <summary>
/// One operator applied to small random inputs in a model of the given opset; the gradient is checked with respect to
/// each of <see cref="Wrt"/>.
/// </summary>
public sealed record RuleCase(string Name, string Op, CaseInput[] Inputs, AttributeProto[] Attrs, string[] Wrt, int Outputs = 1,
    int Opset = GraphBuilder.DefaultOpset)
{
    public override string ToString() => Name;

    /// <summary>The same case with every dimension declared as a number (to read the output's shape).</summary>
    public RuleCase Static => this with { Inputs = [.. Inputs.Select(i => i with { Symbolic = false })] };

    /// <summary>A constant list attribute (axes, split) where the case's opset takes one, else the input of that name.</summary>
    public long[]? List(string name) =>
        Attrs.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() ?? Inputs.FirstOrDefault(i => i.Name == name)?.Ints;

    static CaseInput X(string name, params long[] shape) => new(name, shape);
    static CaseInput P(string name, params long[] shape) => new(name, shape, Fill.Positive);
    static CaseInput I(string name, long[] values, params long[] shape) => new(name, shape, Ints: values);
    static CaseInput S(string name, params long[] shape) => new(name, shape, Symbolic: true);
    const int Opset11 = 11;

    /// <summary>Every rule in <see cref="Autodiff.VjpRules.All"/> appears in at least one case (checked by a test).</summary>
    public static IEnumerable<RuleCase> All()
    {
        yield return new("Identity", "Identity", [X("x", 2, 3)], [], ["x"]);
        yield return new("Dropout (inference)", "Dropout", [X("x", 2, 3)], [], ["x"]);
        yield return new("Cast float->float", "Cast", [X("x", 2, 3)], [Attributes.Int("to", (long)DataType.Double)], ["x"]);
        yield return new("Neg", "Neg", [X("x", 2, 3)], [], ["x"]);
        yield return new("Add broadcast bias", "Add", [X("a", 2, 3, 4), X("b", 4)], [], ["a", "b"]);
        yield return new("Add stretched axis", "Add", [X("a", 2, 3, 4), X("b", 2, 1, 4)], [], ["a", "b"]);
        yield return new("Sub", "Sub", [X("a", 2, 3), X("b", 2, 3)], [], ["a", "b"]);
        yield return new("Mul broadcast", "Mul", [X("a", 2, 3, 4), X("b", 3, 1)], [], ["a", "b"]);
        yield return new("Div", "Div", [X("a", 2, 3), P("b", 2, 3)], [], ["a", "b"]);
        yield return new("Div by scalar", "Div", [X("a", 2, 3), P("b")], [], ["a", "b"]);
        yield return new("Sum of three", "Sum", [X("a", 2, 3), X("b", 3), X("c", 2, 1)], [], ["a", "b", "c"]);
        yield return new("Expand", "Expand", [X("x", 3, 1), I("shape", [2, 3, 4], 3)], [], ["x"]);
        yield return new("Exp", "Exp", [X("x", 2, 3)], [], ["x"]);
        yield return new("Tanh", "Tanh", [X("x", 2, 3)], [], ["x"]);
        yield return new("Sigmoid", "Sigmoid", [X("x", 2, 3)], [], ["x"]);
        yield return new("Sqrt", "Sqrt", [P("x", 2, 3)], [], ["x"]);
        yield return new("Log", "Log", [P("x", 2, 3)], [], ["x"]);
        yield return new("Reciprocal", "Reciprocal", [P("x", 2, 3)], [], ["x"]);
        yield return new("Relu", "Relu", [new CaseInput("x", [2, 3], Fill.Away)], [], ["x"]);
        yield return new("Erf", "Erf", [X("x", 2, 3)], [], ["x"]);
        yield return new("Gelu exact", "Gelu", [X("x", 2, 3)], [], ["x"]);
        yield return new("Pow 2", "Pow", [X("x", 2, 3), X("p2")], [], ["x"]);
        yield return new("Pow 3", "Pow", [X("x", 2, 3), X("p3")], [], ["x"]);
        yield return new("Softmax last axis", "Softmax", [X("x", 2, 3, 4)], [Attributes.Int("axis", -1)], ["x"]);
        yield return new("Softmax axis 1", "Softmax", [X("x", 2, 3, 4)], [Attributes.Int("axis", 1)], ["x"]);
        yield return new("LogSoftmax", "LogSoftmax", [X("x", 2, 5)], [Attributes.Int("axis", -1)], ["x"]);
        yield return new("LayerNormalization", "LayerNormalization", [X("x", 2, 3, 4), X("scale", 4), X("bias", 4)],
            [Attributes.Int("axis", -1), Attributes.Float("epsilon", 1e-5f)], ["x", "scale", "bias"]);
        yield return new("LayerNormalization two axes", "LayerNormalization", [X("x", 2, 3, 4), X("scale", 3, 4)],
            [Attributes.Int("axis", 1), Attributes.Float("epsilon", 1e-5f)], ["x", "scale"]);
        yield return new("ReduceMean keepdims", "ReduceMean", [X("x", 2, 3, 4), I("axes", [-1], 1)], [], ["x"]);
        yield return new("ReduceMean no keepdims", "ReduceMean", [X("x", 2, 3, 4), I("axes", [0, 2], 2)], [Attributes.Int("keepdims", 0)], ["x"]);
        yield return new("ReduceSum no keepdims", "ReduceSum", [X("x", 2, 3, 4), I("axes", [1], 1)], [Attributes.Int("keepdims", 0)], ["x"]);
        yield return new("MatMul batch x weight", "MatMul", [X("a", 2, 3, 4), X("w", 4, 5)], [], ["a", "w"]);
        yield return new("MatMul batched", "MatMul", [X("a", 2, 2, 3, 4), X("b", 2, 2, 4, 3)], [], ["a", "b"]);
        yield return new("MatMul broadcast batch", "MatMul", [X("a", 2, 3, 4), X("b", 1, 4, 2)], [], ["a", "b"]);
        yield return new("MatMul 2-D", "MatMul", [X("a", 3, 4), X("b", 4, 2)], [], ["a", "b"]);
        yield return new("Gemm", "Gemm", [X("a", 3, 4), X("b", 4, 2), X("c", 2)], [Attributes.Float("alpha", 0.7f), Attributes.Float("beta", 1.3f)], ["a", "b", "c"]);
        yield return new("Gemm transposed", "Gemm", [X("a", 4, 3), X("b", 2, 4), X("c", 3, 2)],
            [Attributes.Int("transA", 1), Attributes.Int("transB", 1)], ["a", "b", "c"]);
        yield return new("Reshape", "Reshape", [X("x", 2, 3, 4), I("shape", [6, -1], 2)], [], ["x"]);
        yield return new("Flatten", "Flatten", [X("x", 2, 3, 4)], [Attributes.Int("axis", 1)], ["x"]);
        yield return new("Unsqueeze", "Unsqueeze", [X("x", 2, 3), I("axes", [1], 1)], [], ["x"]);
        yield return new("Squeeze", "Squeeze", [X("x", 2, 1, 3), I("axes", [1], 1)], [], ["x"]);
        yield return new("Transpose", "Transpose", [X("x", 2, 3, 4, 2)], [Attributes.Ints("perm", 0, 2, 1, 3)], ["x"]);
        yield return new("Concat", "Concat", [X("a", 2, 3), X("b", 2, 2)], [Attributes.Int("axis", 1)], ["a", "b"]);
        yield return new("Split (second output unused)", "Split", [X("x", 2, 5), I("split", [2, 3], 2)], [Attributes.Int("axis", 1)], ["x"], Outputs: 2);
        yield return new("Gather scalar index ([CLS])", "Gather", [X("x", 2, 4, 3), I("index", [0])], [Attributes.Int("axis", 1)], ["x"]);
        yield return new("Gather repeated indices", "Gather", [X("x", 5, 3), I("indices", [1, 3, 1, -1], 2, 2)], [], ["x"]);
        yield return new("Gather axis 1 indices", "Gather", [X("x", 2, 4, 3), I("indices", [2, 0, 2], 3)], [Attributes.Int("axis", 1)], ["x"]);
        yield return new("Slice", "Slice", [X("x", 2, 5, 3), I("starts", [1], 1), I("ends", [-1], 1), I("axes", [1], 1)], [], ["x"]);
        yield return new("Where", "Where", [new CaseInput("c", [2, 3], Bools: [true, false, true, false, false, true]), X("a", 2, 3), X("b", 3)], [], ["a", "b"]);
        // Shapes known only at run time: reductions over computed axes and Split over computed sizes.
        yield return new("Add undecided broadcast", "Add", [S("a", 2, 3, 4), S("b", 3, 1)], [], ["a", "b"]);
        yield return new("Concat computed sizes", "Concat", [S("a", 2, 3), S("b", 2, 2)], [Attributes.Int("axis", 1)], ["a", "b"]);

        // Opset 11 forms: axes and split sizes as attributes; Softmax and LogSoftmax over the block [axis, rank) of a
        // 2-D coercion (default axis 1); and backward graphs without ReduceSum over run-time axes, Split over computed
        // sizes, integer Min/Max or ScatterND's reduction.
        yield return new("Unsqueeze opset 11", "Unsqueeze", [X("x", 2, 3)], [Attributes.Ints("axes", 1)], ["x"], Opset: Opset11);
        yield return new("Squeeze opset 11", "Squeeze", [X("x", 2, 1, 3)], [Attributes.Ints("axes", 1)], ["x"], Opset: Opset11);
        yield return new("ReduceSum opset 11 no keepdims", "ReduceSum", [X("x", 2, 3, 4)],
            [Attributes.Ints("axes", 1), Attributes.Int("keepdims", 0)], ["x"], Opset: Opset11);
        yield return new("ReduceSum opset 11 all axes", "ReduceSum", [X("x", 2, 3, 4)], [Attributes.Int("keepdims", 0)], ["x"], Opset: Opset11);
        yield return new("ReduceMean opset 11 no keepdims", "ReduceMean", [X("x", 2, 3, 4)],
            [Attributes.Ints("axes", 0, 2), Attributes.Int("keepdims", 0)], ["x"], Opset: Opset11);
        yield return new("ReduceMean opset 17 keepdims", "ReduceMean", [X("x", 2, 3, 4)], [Attributes.Ints("axes", -1)], ["x"], Opset: 17);
        yield return new("Split opset 11", "Split", [X("x", 2, 5)], [Attributes.Int("axis", 1), Attributes.Ints("split", 2, 3)], ["x"],
            Outputs: 2, Opset: Opset11);
        yield return new("Softmax opset 11 axis 1 of rank 3", "Softmax", [X("x", 2, 3, 4)], [Attributes.Int("axis", 1)], ["x"], Opset: Opset11);
        yield return new("Softmax opset 11 default axis", "Softmax", [X("x", 2, 3, 4)], [], ["x"], Opset: Opset11);
        yield return new("Softmax opset 11 axis -2", "Softmax", [X("x", 2, 3, 4)], [Attributes.Int("axis", -2)], ["x"], Opset: Opset11);
        yield return new("Softmax opset 11 last axis", "Softmax", [X("x", 2, 3, 4)], [Attributes.Int("axis", 2)], ["x"], Opset: Opset11);
        yield return new("LogSoftmax opset 11 axis 1 of rank 3", "LogSoftmax", [X("x", 2, 3, 4)], [Attributes.Int("axis", 1)], ["x"], Opset: Opset11);
        yield return new("LogSoftmax opset 12 default axis", "LogSoftmax", [X("x", 2, 3, 4)], [], ["x"], Opset: 12);
        yield return new("Add opset 11 undecided broadcast", "Add", [S("a", 2, 3, 4), S("b", 3, 1)], [], ["a", "b"], Opset: Opset11);
        yield return new("Concat opset 11 computed sizes", "Concat", [S("a", 2, 3), S("b", 2, 2)], [Attributes.Int("axis", 1)], ["a", "b"], Opset: Opset11);
        yield return new("MatMul opset 11 batch x weight, shapes at run time", "MatMul", [S("a", 2, 3, 4), S("w", 4, 5)], [], ["a", "w"], Opset: Opset11);
        yield return new("Gather opset 11 repeated indices", "Gather", [X("x", 5, 3), I("indices", [1, 3, 1, -1], 2, 2)], [], ["x"], Opset: Opset11);
        yield return new("Gather opset 11 axis 1 indices", "Gather", [X("x", 2, 4, 3), I("indices", [2, 0, 2], 3)], [Attributes.Int("axis", 1)], ["x"], Opset: Opset11);
        yield return new("Gather opset 11 scalar index", "Gather", [X("x", 2, 4, 3), I("index", [-1])], [Attributes.Int("axis", 1)], ["x"], Opset: Opset11);
        yield return new("Slice opset 11", "Slice", [X("x", 2, 5, 3), I("starts", [1], 1), I("ends", [-1], 1), I("axes", [1], 1)], [], ["x"], Opset: Opset11);
        yield return new("LayerNormalization opset 17", "LayerNormalization", [X("x", 2, 3, 4), X("scale", 4), X("bias", 4)],
            [Attributes.Int("axis", -1), Attributes.Float("epsilon", 1e-5f)], ["x", "scale", "bias"], Opset: 17);
    }

    /// <summary>The exponents of the Pow cases are constant initializers (the rule needs a constant scalar).</summary>
    public static readonly Dictionary<string, double> ScalarConstants = new() { ["p2"] = 2.0, ["p3"] = 3.0 };

    public ModelProto Build(DataType type)
    {
        var model = GraphBuilder.NewModel(Name, Opset);
        var b = new GraphBuilder(model);
        foreach (var input in Inputs)
        {
            if (input.Ints != null) b.Initializer(Tensors.FromInt64s(input.Name, input.Ints, input.Shape));
            else if (input.Bools != null)
            {
                var t = new TensorProto { Name = input.Name, DataType = (int)DataType.Bool, RawData = Google.Protobuf.ByteString.CopyFrom(input.Bools.Select(v => (byte)(v ? 1 : 0)).ToArray()) };
                t.Dims.AddRange(input.Shape);
                b.Initializer(t);
            }
            else if (ScalarConstants.TryGetValue(input.Name, out double value))
                b.Initializer(type == DataType.Double ? Tensors.FromDoubles(input.Name, [value]) : Tensors.FromFloats(input.Name, [(float)value]));
            else if (input.Symbolic) b.Input(input.Name, type, input.Shape.Select((_, i) => (object)$"{input.Name}_dim{i}").ToArray());
            else b.Input(input.Name, type, input.Shape.Cast<object>().ToArray());
        }
        var outputs = b.Node(Op, Inputs.Select(i => i.Name).ToArray(), Outputs, Attrs);
        b.Output(outputs[0]);
        return model;
    }
}

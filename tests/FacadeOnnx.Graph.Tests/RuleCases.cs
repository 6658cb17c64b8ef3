using FacadeOnnx.Graph.Building;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Tests;

/// <summary>How a test input is filled.</summary>
public enum Fill { Normal, Positive, Away }   // Away: |x| >= 0.3, for kinks such as Relu

/// <summary>An input of a one-node test graph: a float tensor fed at run time, or a constant initializer.</summary>
public sealed record CaseInput(string Name, long[] Shape, Fill Fill = Fill.Normal, long[]? Ints = null, bool[]? Bools = null)
{
    public bool IsConstant => Ints != null || Bools != null;
}

/// <summary>One operator applied to small random inputs; the gradient is checked with respect to each of <see cref="Wrt"/>.</summary>
public sealed record RuleCase(string Name, string Op, CaseInput[] Inputs, AttributeProto[] Attrs, string[] Wrt, int Outputs = 1)
{
    public override string ToString() => Name;

    static CaseInput X(string name, params long[] shape) => new(name, shape);
    static CaseInput P(string name, params long[] shape) => new(name, shape, Fill.Positive);
    static CaseInput I(string name, long[] values, params long[] shape) => new(name, shape, Ints: values);

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
    }

    /// <summary>The exponents of the Pow cases are constant initializers (the rule needs a constant scalar).</summary>
    public static readonly Dictionary<string, double> ScalarConstants = new() { ["p2"] = 2.0, ["p3"] = 3.0 };

    public ModelProto Build(DataType type)
    {
        var model = GraphBuilder.NewModel(Name);
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
            else b.Input(input.Name, type, input.Shape.Cast<object>().ToArray());
        }
        var outputs = b.Node(Op, Inputs.Select(i => i.Name).ToArray(), Outputs, Attrs);
        b.Output(outputs[0]);
        return model;
    }
}

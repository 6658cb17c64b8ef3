using FacadeOnnx.Graph.Building;
using FacadeOnnx.Graph.Checking;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Tests;

/// <summary>The checker catches what ONNX Runtime would reject, and its messages name the node.</summary>
[TestFixture]
public class ModelCheckerTests
{
    static (ModelProto Model, GraphBuilder Builder) Valid()
    {
        var model = GraphBuilder.NewModel("checked");
        var b = new GraphBuilder(model);
        b.Input("x", DataType.Float, "batch", 4);
        string y = b.Named("y", "Tanh", ["x"]);
        b.Output(y);
        return (model, b);
    }

    [Test]
    public void AValidModelHasNoProblems() => Assert.That(ModelChecker.Check(Valid().Model), Is.Empty);

    [Test]
    public void DanglingInputNamesTheNodeAndTheTensor()
    {
        var (model, _) = Valid();
        model.Graph.Node[0].Input[0] = "missing";
        var problems = ModelChecker.Check(model);
        Assert.That(problems, Has.Some.Contains("node 'Tanh' (Tanh) reads 'missing'"));
    }

    [Test]
    public void DuplicateOutputsAreReported()
    {
        var (model, _) = Valid();
        model.Graph.Node.Add(new NodeProto { OpType = "Relu", Name = "second", Input = { "x" }, Output = { "y" } });
        Assert.That(ModelChecker.Check(model), Has.Some.Contains("node 'second' (Relu) writes 'y', which node 'Tanh' (Tanh) already produces"));
    }

    [Test]
    public void UnknownOperatorsAndForeignDomainsAreReported()
    {
        var (model, _) = Valid();
        model.Graph.Node[0].OpType = "Tanhh";
        model.Graph.Node.Add(new NodeProto { OpType = "FusedMatMul", Domain = "com.microsoft", Name = "fused", Input = { "x", "x" }, Output = { "z" } });
        var problems = ModelChecker.Check(model);
        Assert.That(problems, Has.Some.Contains("unknown operator 'Tanhh'"));
        Assert.That(problems, Has.Some.Contains("node 'fused' (FusedMatMul) is in domain 'com.microsoft'"));
    }

    [Test]
    public void MissingGraphOutputAndOpsetAreReported()
    {
        var (model, _) = Valid();
        model.Graph.Output[0].Name = "nowhere";
        model.OpsetImport.Clear();
        var problems = ModelChecker.Check(model);
        Assert.That(problems, Has.Some.Contains("Graph output 'nowhere' is not produced"));
        Assert.That(problems, Has.Some.Contains("imports no ai.onnx opset"));
        Assert.Throws<FacadeException>(() => ModelChecker.ThrowIfInvalid(model));
    }

    [Test]
    public void OperatorsAndFormsTheModelsOpsetLacksAreReported()
    {
        var model = GraphBuilder.NewModel("old", 11);
        var b = new GraphBuilder(model);
        b.Input("x", DataType.Float, 2, 3);
        string y = b.Named("y", "Unsqueeze", ["x", b.Ints(0)]);
        b.Named("z", "Gelu", [y]);
        b.Output("z");
        var problems = ModelChecker.Check(model);
        Assert.That(problems, Has.Some.Contains("node 'Unsqueeze' (Unsqueeze) gives 'axes' as an input; before opset 13 (the model imports 11) it is an attribute"));
        Assert.That(problems, Has.Some.Contains("node 'Gelu' (Gelu) uses an operator added in opset 20; the model imports opset 11"));

        model.OpsetImport.Single().Version = 13;
        model.Graph.Node[0].Input.RemoveAt(1);
        model.Graph.Node[0].Attribute.Add(Attributes.Ints("axes", 0));
        Assert.That(ModelChecker.Check(model), Has.Some.Contains("node 'Unsqueeze' (Unsqueeze) gives 'axes' as an attribute; from opset 13"));
    }

    [Test]
    public void OperatorsWithoutARuleStopTheGradientWithTheRulesThatExist()
    {
        var model = GraphBuilder.NewModel("no-rule");
        var b = new GraphBuilder(model);
        b.Input("x", DataType.Float, 2, 3);
        b.Named("y", "Cos", ["x"]);
        b.Output("y");
        var error = Assert.Throws<FacadeException>(() => Autodiff.ReverseMode.AppendVjp(model, "x", "y"));
        Assert.That(error!.Message, Does.Contain("'Cos'").And.Contain("node 'Cos'").And.Contain("Rules exist for: Add"));
    }
}

using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Merging;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// The adaptive attacker's leave-one-out term (docs/method.md §5.2, "Leave-one-out reward") against the merged model it
/// stands for: the probability it returns must be the merge's own softmax, at the target's prediction, on each sentence
/// with its first target token cut out of the id list by hand, and its gradient must reach the Facade and only the Facade.
/// </summary>
[TestFixture]
public class LeaveOneOutRewardTests
{
    [Test]
    public void AblatedProbabilityIsTheMergedModelsProbabilityWithTheFirstTargetTokenDeleted()
    {
        var facade = MergeTests.TinyFacade(41);
        var target = MergeTests.TinyTarget(42);
        foreach (var p in target.parameters()) p.requires_grad = false;
        var tokenizer = WordPieceTokenizer.MiniLm();
        var stopWords = FacadeTarget.StopWords(StopWords.Load(RepositoryPaths.ResolveDataRoot()));
        var inputs = RealData.VariedSst2Dev(12, maxWords: 20).Select(e => tokenizer.Encode(e.Text, maxLength: 64)).ToArray();
        using var batch = TensorBatch.Create(inputs, new int[inputs.Length]);
        var reward = new LeaveOneOutReward(target, weight: 1);
        var probability = reward.AblatedProbability(facade, batch, stopWords);

        // The reference: the merge of the two models, on id lists with the first stop word removed by hand.
        var merged = Merge.Models(facade, target);
        var expected = new List<double>();
        foreach (var input in inputs)
        {
            int position = stopWords.Positions(input).FirstOrDefault(p => !input.Spans[p].IsSpecial, -1);
            if (position < 0) continue;
            // ŷ is the target's prediction (the merge's own wherever the two agree, which the attacker keeps).
            var full = Logits(target, input.Ids, input.TypeIds);
            int predicted = Array.IndexOf(full, full.Max());
            var ids = input.Ids.Where((_, i) => i != position).ToArray();
            var types = input.TypeIds.Where((_, i) => i != position).ToArray();
            var ablated = Logits(merged, ids, types);
            double max = ablated.Max(), sum = ablated.Sum(z => Math.Exp(z - max));
            expected.Add(Math.Exp(ablated[predicted] - max) / sum);
        }
        Assert.That(expected, Has.Count.GreaterThanOrEqualTo(2), "several sentences have a stop word to delete");
        double value = probability.item<float>();
        TestContext.Out.WriteLine($"p_del {value:F6} against the merge's {expected.Average():F6} over {expected.Count} sentences");
        // Float32: the merged model sums the same products in another order.
        Assert.That(value, Is.EqualTo(expected.Average()).Within(1e-5));

        facade.zero_grad();
        probability.backward();
        Assert.That(facade.parameters().Sum(p => p.grad is { } g ? g.abs().sum().item<float>() : 0), Is.GreaterThan(0), "the Facade learns from the term");
        Assert.That(target.parameters().All(p => p.grad is null), "the frozen target gets no gradient");
    }

    [Test]
    public void NoRowWithATargetTokenGivesZeroWithoutAGraph()
    {
        var tokenizer = WordPieceTokenizer.MiniLm();
        var stopWords = FacadeTarget.StopWords(StopWords.Load(RepositoryPaths.ResolveDataRoot()));
        var inputs = new[] { tokenizer.Encode("brilliant performances", maxLength: 16) };
        Assume.That(stopWords.Positions(inputs[0]), Is.Empty);
        using var batch = TensorBatch.Create(inputs, [0]);
        var p = new LeaveOneOutReward(MergeTests.TinyTarget(43), 1).AblatedProbability(MergeTests.TinyFacade(44), batch, stopWords);
        Assert.That(p.item<float>(), Is.EqualTo(0));
        Assert.That(p.requires_grad, Is.False);
    }

    static float[] Logits(Model.BertClassifier model, int[] ids, int[] types)
    {
        using var _ = no_grad();
        long[] shape = [1, ids.Length];
        using var logits = model.forward(tensor(ids.Select(i => (long)i).ToArray(), shape), ones(shape, ScalarType.Int64), tensor(types.Select(i => (long)i).ToArray(), shape));
        return logits.data<float>().ToArray();
    }
}

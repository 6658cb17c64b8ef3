using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class BatchingTests
{
    static TokenizedInput[] Inputs(int count) =>
        Tasks.Get("snli").Load(TestData.Root, "dev").Examples.Take(count).Select(e => TestData.Tokenizer.Encode(e.Text, e.Pair)).ToArray();

    [Test]
    public void BatchPadsToTheLongestRowWithMaskAndTypeIds()
    {
        TokenizedInput[] inputs = Inputs(5);
        Batch batch = Batch.FromInputs(inputs);
        int longest = inputs.Max(i => i.Length);
        Assert.That(batch.Size, Is.EqualTo(5));
        Assert.That(batch.SequenceLength, Is.EqualTo(longest));
        Assert.That(batch.InputIds, Has.Length.EqualTo(5 * longest));
        Assert.That(batch.Lengths, Is.EqualTo(inputs.Select(i => i.Length)));
        for (int row = 0; row < 5; row++)
        {
            for (int t = 0; t < longest; t++)
            {
                int at = batch.IndexOf(row, t);
                bool real = t < inputs[row].Length;
                Assert.That(batch.InputIds[at], Is.EqualTo(real ? inputs[row].Ids[t] : 0));
                Assert.That(batch.AttentionMask[at], Is.EqualTo(real ? 1 : 0));
                Assert.That(batch.TokenTypeIds[at], Is.EqualTo(real ? inputs[row].TypeIds[t] : 0));
            }
        }
        Assert.That(inputs.Select(i => i.Length).Distinct().Count(), Is.GreaterThan(1), "rows of different lengths were padded");
    }

    [Test]
    public void PadIdCanBeChosenAndEmptyBatchesAreRefused()
    {
        TokenizedInput[] inputs = [TestData.Tokenizer.Encode("a b c"), TestData.Tokenizer.Encode("a")];
        Batch batch = Batch.FromInputs(inputs, padId: 7);
        Assert.That(batch.InputIds[batch.IndexOf(1, 3)..], Is.EqualTo(new long[] { 7, 7 }));
        Assert.Throws<ArgumentException>(() => Batch.FromInputs([]));
    }

    [Test]
    public void SplitMakesConsecutiveChunks()
    {
        var chunks = Batches.Split(Enumerable.Range(0, 10).ToArray(), 4);
        Assert.That(chunks.Select(c => c.Count), Is.EqualTo(new[] { 4, 4, 2 }));
        Assert.That(chunks.SelectMany(c => c), Is.EqualTo(Enumerable.Range(0, 10)));
        Assert.That(Batches.Stack(Inputs(7), 3).Select(b => b.Size), Is.EqualTo(new[] { 3, 3, 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Batches.Split(new[] { 1 }, 0));
    }

    [Test]
    public void LengthBucketsGroupByLengthAndRestoreTheOriginalOrder()
    {
        TokenizedInput[] inputs = Inputs(50);
        LengthBuckets buckets = LengthBuckets.Create(inputs, 8);
        Assert.That(buckets.Groups.Select(g => g.Length), Is.EqualTo(new[] { 8, 8, 8, 8, 8, 8, 2 }));
        Assert.That(buckets.Groups.SelectMany(g => g).OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 50)));
        int[] lengthsInGroupOrder = buckets.Groups.SelectMany(g => g).Select(i => inputs[i].Length).ToArray();
        Assert.That(lengthsInGroupOrder, Is.Ordered.Ascending);

        // Compute something per group (here: each row's length from its batch), then restore.
        var perGroup = new List<IReadOnlyList<int>>();
        for (int g = 0; g < buckets.Groups.Count; g++)
        {
            Batch batch = Batch.FromInputs(buckets.Select(inputs, g));
            Assert.That(batch.SequenceLength, Is.EqualTo(batch.Lengths.Max()));
            perGroup.Add(batch.Lengths);
        }
        Assert.That(buckets.Restore(perGroup), Is.EqualTo(inputs.Select(i => i.Length)));

        var ids = buckets.Restore(buckets.Groups.Select((_, g) => (IReadOnlyList<TokenizedInput>)buckets.Select(inputs, g)).ToArray());
        Assert.That(ids, Is.EqualTo(inputs), "the same objects come back in the original order");
    }

    [Test]
    public void EqualLengthsKeepTheirOriginalOrder()
    {
        LengthBuckets buckets = LengthBuckets.Create(new[] { 5, 3, 5, 3, 5 }, 2);
        Assert.That(buckets.Groups, Is.EqualTo(new[] { new[] { 1, 3 }, new[] { 0, 2 }, new[] { 4 } }));
    }
}

using System.Collections;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>How an audit is cut into shards: by word pieces, contiguously, every chunk exactly once.</summary>
[TestFixture]
public class ShardSliceTests
{
    /// <summary>
    /// A long-text corpus: texts made by joining consecutive real SST-2 dev sentences, 1 to 40 of them (a few words to
    /// about 800 word pieces, cut at MiniLM's 512 positions), in an order where long and short texts cluster, so that
    /// equal record counts per shard would be far from equal work.
    /// </summary>
    static readonly Lazy<TokenizedInput[]> LongTexts = new(() =>
    {
        var sentences = RealData.Sst2Dev.Examples.Select(e => e.Text).ToArray();
        var tokenizer = WordPieceTokenizer.MiniLm();
        var texts = new List<TokenizedInput>();
        int next = 0;
        for (int i = 0; i < 400; i++)
        {
            int join = i % 100 < 30 ? 1 + i % 3 : i % 100 < 60 ? 10 + i % 31 : 1 + (i * 7) % 12;
            var words = Enumerable.Range(0, join).Select(k => sentences[(next + k) % sentences.Length]);
            next += join;
            texts.Add(tokenizer.Encode(string.Join(" ", words), maxLength: 512));
        }
        return texts.ToArray();
    });

    static long[] ChunkPieces(IReadOnlyList<TokenizedInput> inputs, int chunkSize) =>
        inputs.Chunk(chunkSize).Select(c => c.Sum(i => (long)i.Length)).ToArray();

    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(7)]
    [TestCase(8)]
    public void ShardsOfALongTextCorpusGetWithinTenPercentOfTheMeanPieces(int shards)
    {
        var inputs = LongTexts.Value;
        Assert.That(inputs.Max(i => i.Length), Is.GreaterThan(10 * inputs.Min(i => i.Length)), "texts of very different lengths");
        var pieces = ChunkPieces(inputs, chunkSize: 8);
        var owner = ShardSlice.Assign(pieces, shards);
        var loads = Enumerable.Range(0, shards).Select(s => Enumerable.Range(0, pieces.Length).Where(c => owner[c] == s).Sum(c => pieces[c])).ToArray();
        double mean = pieces.Sum() / (double)shards;
        Assert.That(loads.Max(), Is.LessThanOrEqualTo(1.10 * mean), $"pieces per shard: {string.Join(", ", loads)}; mean {mean:F0}");

        // The same corpus cut by record count instead: the imbalance the rule avoids.
        var byCount = inputs.Chunk((inputs.Length + shards - 1) / shards).Select(c => c.Sum(i => (long)i.Length)).ToArray();
        TestContext.Out.WriteLine($"{shards} shards: pieces {string.Join(", ", loads)} (max/mean {loads.Max() / mean:F3}); by record count {byCount.Max() / mean:F3}");
    }

    [Test]
    public void EveryChunkBelongsToExactlyOneShardAndTheRuleIsDeterministic()
    {
        var pieces = ChunkPieces(LongTexts.Value, chunkSize: 5);
        foreach (int shards in new[] { 1, 2, 5, 13, pieces.Length, pieces.Length + 3 })
        {
            var owner = ShardSlice.Assign(pieces, shards);
            Assert.That(owner, Has.All.InRange(0, shards - 1), $"{shards} shards");
            Assert.That(ShardSlice.Assign(pieces.ToArray(), shards), Is.EqualTo(owner), "deterministic");
            if (shards <= pieces.Length) Assert.That(owner.Distinct().Count(), Is.EqualTo(shards), "no shard left empty while chunks remain");
        }
        // Longest first, each to the least loaded shard (lower index on a tie).
        Assert.That(ShardSlice.Assign([5, 9, 9, 2, 7], 2), Is.EqualTo(new[] { 1, 0, 1, 1, 0 }));
    }

    [Test]
    public void ShardsComeFromTheOptionOrAJobArraysEnvironment()
    {
        var none = new Hashtable();
        Assert.That(ShardSpec.Resolve("2/4", null, none), Is.EqualTo(new ShardSpec(2, 4)));
        Assert.That(ShardSpec.Resolve(null, null, none), Is.Null, "one process");
        var slurm = new Hashtable { [ShardSpec.SlurmTaskId] = "3", [ShardSpec.SlurmTaskCount] = "4", [ShardSpec.SlurmTaskMin] = "1", [ShardSpec.SlurmTaskMax] = "4" };
        Assert.That(ShardSpec.Resolve(null, null, slurm), Is.EqualTo(new ShardSpec(2, 4)), "--array=1-4: task 3 is the third shard");
        Assert.That(ShardSpec.Resolve("off", null, slurm), Is.Null, "--shard off ignores the array");
        Assert.That(ShardSpec.Resolve(null, 6, new Hashtable { [ShardSpec.KubernetesIndex] = "5" }), Is.EqualTo(new ShardSpec(5, 6)));
        Assert.That(new ShardSpec(7, 12).FolderName, Is.EqualTo("shard-07-of-12"));

        Assert.That(() => ShardSpec.Resolve("4/4", null, none), Throws.TypeOf<FacadeException>().With.Message.Contains("outside 0..3"));
        Assert.That(() => ShardSpec.Resolve("a/b", null, none), Throws.TypeOf<FacadeException>().With.Message.Contains("is not I/N"));
        Assert.That(() => ShardSpec.Resolve(null, 4, none), Throws.TypeOf<FacadeException>().With.Message.Contains(ShardSpec.KubernetesIndex));
        var stepped = new Hashtable { [ShardSpec.SlurmTaskId] = "2", [ShardSpec.SlurmTaskCount] = "3", [ShardSpec.SlurmTaskMin] = "0", [ShardSpec.SlurmTaskMax] = "4" };
        Assert.That(() => ShardSpec.Resolve(null, null, stepped), Throws.TypeOf<FacadeException>().With.Message.Contains("contiguous"));
    }
}

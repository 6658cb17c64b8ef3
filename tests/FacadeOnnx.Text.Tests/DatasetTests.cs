using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class DatasetTests
{
    [TestCase("sst2", "train", 6920)]
    [TestCase("sst2", "dev", 872)]
    [TestCase("snli", "dev", 9842)]
    [TestCase("snli", "test", 9824)]
    [TestCase("snli", "eval", 1000)]
    [TestCase("snli", "train", 18666)]
    public void SplitHasItsDocumentedSize(string task, string split, int count)
    {
        Dataset data = Tasks.Get(task).Load(TestData.Root, split);
        Assert.That(data.Count, Is.EqualTo(count));
        Assert.That(data.Name, Is.EqualTo(task + "/" + split));
        Assert.That(data.SourceFiles, Has.All.Matches<string>(File.Exists));
        Assert.That(data.LabelCounts(), Has.All.GreaterThan(0));
    }

    [Test]
    public void TasksExposeKindsAndLabelNames()
    {
        Assert.That(Tasks.Names, Is.EqualTo(new[] { "sst2", "snli" }));
        Assert.That(Tasks.Get("SST2").LabelNames, Is.EqualTo(new[] { "negative", "positive" }));
        Assert.That(Tasks.Get("snli").LabelNames, Is.EqualTo(new[] { "entailment", "neutral", "contradiction" }));
        Assert.That(Tasks.Get("sst2").Kind, Is.EqualTo(TaskKind.SingleSentence));
        Assert.That(Tasks.Get("snli").Kind, Is.EqualTo(TaskKind.SentencePair));
        Assert.That(Tasks.Get("snli").EvalSplit, Is.EqualTo("eval"));
    }

    [Test]
    public void Sst2LinesBecomeLabelAndSentence()
    {
        Example first = Tasks.Get("sst2").Load(TestData.Root, "train").Examples[0];
        Assert.That(first.Label, Is.EqualTo(1));
        Assert.That(first.Text, Does.StartWith("a stirring , funny and finally transporting re-imagining"));
        Assert.That(first.Pair, Is.Null);
    }

    [Test]
    public void SnliEvalIsTheCommittedDevLinesAndTrainIsTheRestThenTest()
    {
        var snli = Tasks.Get("snli");
        var dev = snli.Load(TestData.Root, "dev").Examples;
        var test = snli.Load(TestData.Root, "test").Examples;
        var eval = snli.Load(TestData.Root, "eval").Examples;
        var train = snli.Load(TestData.Root, "train").Examples;
        var indices = SnliEvalSubset.Indices;
        var inEval = new HashSet<int>(indices);

        Assert.That(inEval, Has.Count.EqualTo(1000));
        Assert.That(indices, Is.Ordered.Ascending);
        Assert.That(eval, Is.EqualTo(indices.Select(i => dev[i]).ToArray()));
        Assert.That(train, Is.EqualTo(dev.Where((_, i) => !inEval.Contains(i)).Concat(test).ToArray()));
        Assert.That(8842 + 9824, Is.EqualTo(train.Count));
    }

    [Test]
    public void RegeneratingTheSnliEvalSubsetGivesTheCommittedFile()
    {
        string regenerated = SnliEvalSubset.Format(SnliEvalSubset.Generate(9842, 1000, 42));
        Assert.That(SnliEvalSubset.ResourceText().Replace("\r\n", "\n"), Is.EqualTo(regenerated));
        string? root = RepositoryPaths.FindRepositoryRoot();
        if (root != null)
        {
            string committed = Path.Combine(root, "src", "FacadeOnnx.Text", "Datasets", "snli-eval-indices.txt");
            Assert.That(File.ReadAllText(committed).Replace("\r\n", "\n"), Is.EqualTo(regenerated));
        }
    }

    [Test]
    public void SplitMix64MatchesItsPublishedFirstOutput()
    {
        // The reference C implementation (Vigna) gives 0xE220A8397B1DCDAF as the first output for seed 0.
        Assert.That(new SplitMix64(0).Next(), Is.EqualTo(0xE220A8397B1DCDAFUL));
        int[] p = SplitMix64.Permutation(50, 7);
        Assert.That(p.OrderBy(x => x), Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(SplitMix64.Permutation(50, 7), Is.EqualTo(p));
        Assert.That(SplitMix64.Permutation(50, 8), Is.Not.EqualTo(p));
    }

    [Test]
    public void SquadFilesHaveTheirQuestionCounts()
    {
        var a = Squad.Load(TestData.Root, "dev-a");
        var b = Squad.Load(TestData.Root, "dev-b");
        Assert.That(a, Has.Count.EqualTo(4961));
        Assert.That(b, Has.Count.EqualTo(5609));
        Assert.That(a.Concat(b).Select(q => q.Id).Distinct().Count(), Is.EqualTo(4961 + 5609));
        Assert.That(a.Concat(b), Has.All.Matches<SquadQuestion>(q => q.Answers.Count > 0));
        Assert.That(Squad.Load(TestData.Root, "train"), Has.Count.EqualTo(4961));
        Assert.That(Squad.Load(TestData.Root, "eval"), Has.Count.EqualTo(5609));
    }
}

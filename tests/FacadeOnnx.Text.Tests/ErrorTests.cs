using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class ErrorTests : TempFolderFixture
{
    [Test]
    public void MissingDataFolderIsNamed()
    {
        string missing = Path.Combine(Folder, "no-data-here");
        var fromOption = Assert.Throws<FacadeException>(() => RepositoryPaths.ResolveDataRoot(missing));
        Assert.That(fromOption!.Message, Does.Contain(missing));
        var fromLoad = Assert.Throws<FacadeException>(() => Tasks.Get("sst2").Load(missing, "train"));
        Assert.That(fromLoad!.Message, Does.Contain(missing).And.Contain("Expected layout"));
        Assert.Throws<FacadeException>(() => StopWords.Load(missing));
        Assert.Throws<FacadeException>(() => Squad.Load(missing, "dev-a"));
    }

    [Test]
    public void MissingFileIsNamedWithTheExpectedLayout()
    {
        Write("sst2/train.txt", "1 fine\n");
        var e = Assert.Throws<FacadeException>(() => Tasks.Get("sst2").Load(Folder, "dev"));
        Assert.That(e!.Message, Does.Contain(Path.Combine(Folder, "sst2", "dev.txt")).And.Contain(RepositoryPaths.ExpectedLayout));
        var snli = Assert.Throws<FacadeException>(() => Tasks.Get("snli").Load(Folder, "test"));
        Assert.That(snli!.Message, Does.Contain(Path.Combine("snli", "s1.test")));
    }

    [TestCase("1 good\n0 fine\n2 bad label\n", 3, "not 0 or 1")]
    [TestCase("1 good\nnospace\n", 2, "no space")]
    [TestCase("1 good\n\n0 fine\n", 2, "empty line")]
    [TestCase("1 good\r\nx sentence\r\n", 2, "not 0 or 1")]
    [TestCase("1 \n", 1, "empty")]
    public void MalformedSst2LineIsNamedByFileAndLine(string text, int line, string what)
    {
        string path = Write("sst2/train.txt", text);
        var e = Assert.Throws<FacadeException>(() => Tasks.Get("sst2").Load(Folder, "train"));
        Assert.That(e!.Message, Does.Contain($"{path}:{line}:").And.Contain(what).And.Contain("expected LABEL<space>sentence"));
    }

    [Test]
    public void WellFormedSst2FileWithCrlfParses()
    {
        Write("sst2/dev.txt", "1 a good film\r\n0 a bad one\r\n");
        Dataset data = Tasks.Get("sst2").Load(Folder, "dev");
        Assert.That(data.Examples, Is.EqualTo(new[] { new Example("a good film", null, 1), new Example("a bad one", null, 0) }));
    }

    [Test]
    public void SnliFilesOfDifferentLengthsAreNamed()
    {
        Write("snli/s1.test", "a\nb\n");
        Write("snli/s2.test", "c\nd\n");
        Write("snli/labels.test", "neutral\n");
        var e = Assert.Throws<FacadeException>(() => Tasks.Get("snli").Load(Folder, "test"));
        Assert.That(e!.Message, Does.Contain("s1.test").And.Contain("s2.test").And.Contain("labels.test").And.Contain("2 lines"));
    }

    [Test]
    public void SnliUnknownLabelIsNamedAndDashIsDropped()
    {
        Write("snli/s1.test", "a\nb\nc\n");
        Write("snli/s2.test", "d\ne\nf\n");
        Write("snli/labels.test", "neutral\n-\ncontradiction\n");
        Dataset data = Tasks.Get("snli").Load(Folder, "test");
        Assert.That(data.Examples, Is.EqualTo(new[] { new Example("a", "d", 1), new Example("c", "f", 2) }));

        string labels = Write("snli/labels.test", "neutral\nmaybe\ncontradiction\n");
        var e = Assert.Throws<FacadeException>(() => Tasks.Get("snli").Load(Folder, "test"));
        Assert.That(e!.Message, Does.Contain($"{labels}:2:").And.Contain("maybe"));
    }

    [Test]
    public void SnliEvalRefusesDevFilesOfTheWrongSize()
    {
        Write("snli/s1.dev", "a\n");
        Write("snli/s2.dev", "b\n");
        Write("snli/labels.dev", "neutral\n");
        var e = Assert.Throws<FacadeException>(() => Tasks.Get("snli").Load(Folder, "eval"));
        Assert.That(e!.Message, Does.Contain("9842").And.Contain("has 1"));
    }

    [Test]
    public void UnknownTaskListsTheKnownTasks()
    {
        var e = Assert.Throws<FacadeException>(() => Tasks.Get("mnli"));
        Assert.That(e!.Message, Does.Contain("mnli").And.Contain("sst2, snli"));
    }

    [Test]
    public void UnknownSplitListsTheKnownSplits()
    {
        var e = Assert.Throws<FacadeException>(() => Tasks.Get("sst2").Load(TestData.Root, "test"));
        Assert.That(e!.Message, Does.Contain("'test'").And.Contain("train, dev"));
        var squad = Assert.Throws<FacadeException>(() => Squad.Load(TestData.Root, "dev-c"));
        Assert.That(squad!.Message, Does.Contain("dev-a").And.Contain("dev-b"));
    }

    [Test]
    public void SquadAnswerNotInItsContextIsNamed()
    {
        string path = Write("squad/dev-a-v1.1.json",
            """{"version":"1.1","data":[{"title":"t","paragraphs":[{"context":"The cat sat.","qas":[{"id":"q1","question":"Who?","answers":[{"text":"dog","answer_start":4}]}]}]}]}""");
        var e = Assert.Throws<FacadeException>(() => Squad.Load(Folder, "dev-a"));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("q1").And.Contain("dog"));
    }

    [Test]
    public void SquadStructureAndSyntaxErrorsAreNamed()
    {
        string path = Write("squad/dev-b-v1.1.json", """{"data":[{"paragraphs":[{"qas":[]}]}]}""");
        var e = Assert.Throws<FacadeException>(() => Squad.Load(Folder, "dev-b"));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("$.data[0].paragraphs[0]").And.Contain("'context'"));
        Write("squad/dev-b-v1.1.json", "{\n\"data\": [\n oops");
        var syntax = Assert.Throws<FacadeException>(() => Squad.Load(Folder, "dev-b"));
        Assert.That(syntax!.Message, Does.Contain(path + ":3:"));
    }

    [Test]
    public void SquadTwoIsRefusedByName()
    {
        string path = Write("squad/dev-b-v1.1.json",
            """{"version":"v2.0","data":[{"title":"t","paragraphs":[{"context":"The cat sat.","qas":[{"id":"q9","question":"Who?","answers":[],"is_impossible":true}]}]}]}""");
        var e = Assert.Throws<FacadeException>(() => Squad.Load(Folder, "dev-b"));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("v2.0").And.Contain("v1.1"));
        Write("squad/dev-b-v1.1.json",
            """{"data":[{"title":"t","paragraphs":[{"context":"The cat sat.","qas":[{"id":"q9","question":"Who?","answers":[],"is_impossible":true}]}]}]}""");
        var unversioned = Assert.Throws<FacadeException>(() => Squad.Load(Folder, "dev-b"));
        Assert.That(unversioned!.Message, Does.Contain(path).And.Contain("q9").And.Contain("is_impossible"));
    }

    [Test]
    public void MalformedStopWordLineIsNamed()
    {
        string path = Write("stopwords/english.txt", "a\nthe\n\nof\n");
        var e = Assert.Throws<FacadeException>(() => StopWords.Load(Folder));
        Assert.That(e!.Message, Does.Contain($"{path}:3:"));
    }
}

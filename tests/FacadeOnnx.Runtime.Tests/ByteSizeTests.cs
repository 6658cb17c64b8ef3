namespace FacadeOnnx.Runtime.Tests;

/// <summary>Sizes as `--memory-budget` reads them.</summary>
[TestFixture]
public class ByteSizeTests
{
    [TestCase("2GB", 2_000_000_000L)]
    [TestCase("1.5 GiB", 1_610_612_736L)]
    [TestCase("512MB", 512_000_000L)]
    [TestCase("512mib", 536_870_912L)]
    [TestCase("800000", 800_000L)]
    [TestCase("64KiB", 65_536L)]
    public void ReadsUnits(string text, long bytes) => Assert.That(ByteSize.Parse(text), Is.EqualTo(bytes));

    [TestCase("")]
    [TestCase("2 gigs")]
    [TestCase("-1GB")]
    [TestCase("0")]
    [TestCase("GB")]
    public void RefusesWhatIsNotASize(string text)
    {
        var error = Assert.Throws<FacadeException>(() => ByteSize.Parse(text, "--memory-budget"))!;
        Assert.That(error.Message, Does.StartWith("--memory-budget:").And.Contain("2GB"));
    }

    [Test]
    public void FormatsForPeople() => Assert.That(ByteSize.Format(1_500_000_000), Is.EqualTo("1.5 GB"));
}

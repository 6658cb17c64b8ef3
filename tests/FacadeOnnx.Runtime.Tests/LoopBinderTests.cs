using FacadeOnnx.Training.Checkpoints;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>`facade train` loop flags: given ones always win; the rest come from the task's measured recipe (SQuAD's
/// differs from the classification defaults the help shows).</summary>
[TestFixture]
public class LoopBinderTests
{
    [Test]
    public void SquadTrainingTakesItsRecipeForLoopFlagsNotGiven()
    {
        string output = Path.Combine(Path.GetTempPath(), "facade-squad-loop-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var result = FacadeCli.Run("train", "--task", "squad", "--train-limit", "4", "--eval-limit", "2", "--max-steps", "1",
                "--max-length", "96", "--stride", "32", "--lr", "2e-4", "--threads", "2", "--out", output);
            Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
            var settings = Checkpoint.ReadManifest(output).Settings;
            Assert.That((settings["batch"], settings["epochs"], settings["lr"]), Is.EqualTo(("16", "2", "0.0002")));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }
}

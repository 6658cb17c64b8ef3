using System.CommandLine;

namespace FacadeOnnx.Cli.Commands;

/// <summary>Every subcommand of `facade`, in the order of the typical flow.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return TrainCommand.Create();
        yield return ExportCommand.Create();
        yield return ExportGradCommand.Create();
        yield return ImportCommand.Create();
        yield return TrainFacadeCommand.Create();
        yield return RegularizeCommand.Create();
        yield return MergeCommand.Create();
        yield return DisguiseCommand.Create();
        yield return TuneMergeCommand.Create();
        yield return ExplainCommand.Create();
        yield return AttackCommand.Create();
        yield return AuditCommand.Create();
        yield return ReproduceCommand.Create();
        yield return BenchCommand.Create();
    }
}

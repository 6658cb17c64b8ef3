using System.CommandLine;
using FacadeOnnx.Runtime.Audit;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade audit merge`: the reports of an audit run as shards (`facade audit --shard I/N`).</summary>
public static class AuditMergeCommand
{
    public static Command Create()
    {
        var shards = new Argument<string[]>("SHARD_DIR")
        {
            Description = "Shard folders (shard-I-of-N), or folders that hold them (such as the shards' --out). Default: --out.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var output = new Option<string>("--out") { Description = "Report folder (report.json, report.md, report.html).", Required = true };
        var model = new Option<string?>("--model") { Description = "The audited model, when it is no longer where the shards read it (its SHA-256 must match)." };
        var compare = new Option<string?>("--compare") { Description = "The compared model, when it is no longer where the shards read it." };
        var input = new Option<string?>("--input") { Description = "The shards' --input file, when it is no longer where they read it (its records must be the same)." };
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var gate = AuditOutput.Gate();
        var command = new Command("merge",
            "Merge the shards of an audit (facade audit --shard I/N) into the reports a one-process audit writes: checks that all N " +
            "shards are finished and agree (settings, models, input, shard count, ONNX Runtime, execution provider), that no record " +
            "is missing, repeated or changed, then computes every metric and the verdict from the records in input order.\n\n" +
            "Example: facade audit merge --out audits/sst2 audits/sst2")
        { shards, output, model, compare, input, data, threads, gate };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            string outFolder = parse.GetValue(output)!;
            var folders = parse.GetValue(shards) is { Length: > 0 } given ? given : [outFolder];
            var report = ShardMerge.Run(folders, outFolder, Console.Error, parse.GetValue(model), parse.GetValue(compare), parse.GetValue(threads), parse.GetValue(data), parse.GetValue(input));
            return AuditOutput.Print(report, outFolder, parse.GetValue(gate));
        }));
        return command;
    }
}

using System.CommandLine;
using System.Globalization;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Merging;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade disguise`: hide a merged checkpoint's block structure (permutation, off-diagonal noise).</summary>
public static class DisguiseCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Merged checkpoint folder (facade merge).", Required = true };
        var output = new Option<string>("--out") { Description = "Output checkpoint folder for the disguised model (a different folder).", Required = true };
        var permute = new Option<bool>("--permute")
        {
            Description = "Permute units consistently through every layer: hidden units within each LayerNorm group and the groups as wholes, " +
                          "heads as wholes and the dimensions inside each head, FFN and pooler units freely. The function is unchanged " +
                          "(to float rounding); the blocks are no longer contiguous.",
        };
        var noise = new Option<double>("--noise")
        {
            Description = $"Fill the zero off-diagonal blocks of every block-diagonal matrix with Gaussian noise at this factor times the " +
                          $"matrix's RMS (e.g. 1e-3, 1e-2; at most {DisguiseOptions.MaxFill}; 0: none). Changes the function slightly; " +
                          "applied before --permute.",
            DefaultValueFactory = _ => 0,
        };
        var layerNormFill = new Option<double>("--layernorm-fill")
        {
            Description = "Fill the same blocks instead with entries the neighbouring LayerNorm cancels, at this factor times each matrix's RMS: " +
                          "column-constant blocks in matrices writing the residual stream (LayerNorm's centering removes them), rows " +
                          "proportional to 1/gamma in matrices reading it (the bias takes back their constant sum). The function is unchanged " +
                          "to float rounding; every block becomes dense. Not with --noise.",
            DefaultValueFactory = _ => 0,
        };
        var seed = new Option<long>("--seed") { Description = "Seed of the permutation and the fill.", DefaultValueFactory = _ => new DisguiseOptions().Seed };
        var threads = CommonOptions.Threads();
        var command = new Command("disguise",
            "Disguise a merged model against structural forensics, as an attacker who has read the FacadeOnnx README would: --permute relabels " +
            "units through every layer (same function), --noise F fills the exact zero off-diagonal blocks with noise at F times each " +
            "matrix's RMS, --layernorm-fill F with entries LayerNorm cancels (same function). The result is a merged checkpoint whose manifest records what was done and how far the logits and " +
            "word-embedding gradients moved on 16 random token sequences.\n\n" +
            "Example: facade disguise --model models/sst2-merged-first --out models/sst2-merged-first-disguised --permute --layernorm-fill 1")
        { model, output, permute, noise, layerNormFill, seed, threads };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            Training.TorchRuntime.Initialize(parse.GetValue(threads));
            string inFolder = parse.GetValue(model)!, outFolder = parse.GetValue(output)!;
            if (Path.GetFullPath(inFolder).TrimEnd('/') == Path.GetFullPath(outFolder).TrimEnd('/'))
                throw new FacadeException($"--out '{outFolder}' is the --model folder; write the disguised model to another folder.");
            var options = new DisguiseOptions
            {
                Permute = parse.GetValue(permute), Noise = parse.GetValue(noise), LayerNormFill = parse.GetValue(layerNormFill), Seed = parse.GetValue(seed),
            };
            var (result, manifest, change) = Disguise.Checkpoints(inFolder, options);
            Checkpoint.Save(result.Model, manifest, outFolder);
            string Format(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
            if (result.Permutation != null)
                Console.Error.WriteLine($"Permuted: LayerNorm groups [{string.Join(", ", result.Model.Config.HiddenGroups)}] (the merge's groups " +
                                        $"[{string.Join(", ", result.Permutation.GroupOrder)}]), {result.Model.Config.Heads} heads, FFN {result.Model.Config.Intermediate}, seed {options.Seed}.");
            if (result.Filled.Count > 0)
                Console.Error.WriteLine($"Filled the off-diagonal blocks of {result.Filled.Count} matrices ({options.FillOption}): RMS {Format(result.Filled.Min(m => m.Ratio))} to " +
                                        $"{Format(result.Filled.Max(m => m.Ratio))} of each matrix's RMS.");
            Console.WriteLine($"Disguised {Path.GetFullPath(inFolder)} into {Path.GetFullPath(outFolder)}; on {change.Inputs} random token sequences: " +
                              $"max logit change {Format(change.MaxLogitChange)} (largest logit {Format(change.LargestLogit)}), max gradient change " +
                              $"{Format(change.MaxGradientChange)} (largest component {Format(change.LargestGradient)}), prediction agreement {change.Agreement:F3}.");
            return 0;
        }));
        return command;
    }
}

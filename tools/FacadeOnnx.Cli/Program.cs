using System.CommandLine;
using FacadeOnnx.Cli.Commands;

var root = new RootCommand(
    "FacadeOnnx: reproduce, export and audit gradient manipulation of NLP models (the Facade attack, Wang et al., " +
    "Findings of EMNLP 2020) with TorchSharp training and an ONNX Runtime evaluation engine.\n\n" +
    "Typical flow: train -> train-facade -> merge -> export --gradients -> explain / attack / audit.\n" +
    "`facade reproduce --task sst2 --quick` runs it all end to end.");
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
return root.Parse(args).Invoke();

using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Import;

/// <summary>The word-embedding lookup of a classifier graph: the Gather node, its [vocabulary, hidden] matrix and output.</summary>
public sealed record EmbeddingLookup(NodeProto Node, string Matrix, string Output, long Rows, long Hidden, string IdsInput)
{
    /// <summary>
    /// Finds the lookup by structure, never by tensor names (docs/design.md 10): a <c>Gather</c> on axis 0 whose data is a
    /// float initializer shaped [rows, hidden] and whose indices come, through casts only, from an integer graph input.
    /// Token-type and position tables look the same, so among several candidates the one fed by <paramref name="idsInput"/>
    /// wins, then the one with <paramref name="vocabularySize"/> rows (or, with no vocabulary to compare, a single one). A quantized table is refused: a
    /// gradient needs float weights. <paramref name="wrt"/> (the <c>--wrt</c> option) names the lookup's output instead.
    /// </summary>
    public static EmbeddingLookup Find(ModelProto model, string idsInput = "input_ids", int? vocabularySize = null, string? wrt = null)
    {
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);
        var inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToDictionary(i => i.Name);

        string? GraphInputBehind(string tensor)
        {
            for (int depth = 0; depth < 4; depth++)
            {
                if (inputs.ContainsKey(tensor)) return tensor;
                if (!producers.TryGetValue(tensor, out var node) || node.OpType is not ("Cast" or "Identity")) return null;
                tensor = node.Input[0];
            }
            return null;
        }

        var considered = new List<string>();
        var candidates = new List<EmbeddingLookup>();
        foreach (var node in graph.Node.Where(n => n.OpType == "Gather" && n.Input.Count == 2))
        {
            string where = $"Gather '{node.Name}' (output '{node.Output[0]}')";
            if (node.GetInt("axis", 0) != 0) { considered.Add($"{where}: gathers on axis {node.GetInt("axis", 0)}, not rows"); continue; }
            if (producers.TryGetValue(node.Input[0], out var dataProducer) && dataProducer.OpType is "DequantizeLinear" or "DynamicQuantizeLinear")
                throw new FacadeException($"{where} reads a quantized table through {dataProducer.OpType} '{dataProducer.Name}'. " +
                                          "Gradients need float weights: import the model as exported before quantization.");
            if (!initializers.TryGetValue(node.Input[0], out var table)) { considered.Add($"{where}: its data '{node.Input[0]}' is not an initializer"); continue; }
            if (table.Dims.Count != 2) { considered.Add($"{where}: its table '{table.Name}' has {table.Dims.Count} dimensions, not [rows, hidden]"); continue; }
            if (table.DataType is (int)DataType.Int8 or (int)DataType.Uint8)
                throw new FacadeException($"{where} reads the quantized table '{table.Name}' ({(DataType)table.DataType}). " +
                                          "Gradients need float weights: import the model as exported before quantization.");
            if (table.DataType != (int)DataType.Float) { considered.Add($"{where}: its table '{table.Name}' holds {(DataType)table.DataType}, not float"); continue; }
            string? source = GraphInputBehind(node.Input[1]);
            if (source == null) { considered.Add($"{where}: its indices '{node.Input[1]}' are computed, not read from a graph input"); continue; }
            candidates.Add(new EmbeddingLookup(node, table.Name, node.Output[0], table.Dims[0], table.Dims[1], source));
            considered.Add($"{where}: table '{table.Name}' [{table.Dims[0]}x{table.Dims[1]}] indexed by input '{source}'");
        }

        if (wrt != null)
            return candidates.FirstOrDefault(c => c.Output == wrt) ?? throw new FacadeException(
                $"--wrt '{wrt}' is not the output of a word-embedding lookup (a Gather of a float [rows, hidden] initializer indexed by a graph input). " +
                Considered(considered));
        var chosen = candidates.Where(c => c.IdsInput == idsInput).ToList();
        if (chosen.Count != 1 && vocabularySize is int v) chosen = (chosen.Count > 1 ? chosen : candidates).Where(c => c.Rows == v).ToList();
        else if (chosen.Count != 1 && candidates.Count == 1) chosen = candidates;
        if (chosen.Count == 1) return chosen[0];
        string wanted = $"indices from the graph input '{idsInput}'" + (vocabularySize is int rows ? $" or {rows} rows (the vocabulary's size)" : "");
        throw new FacadeException(chosen.Count == 0
            ? $"Cannot find the word-embedding lookup in graph '{graph.Name}': no Gather reads a float [rows, hidden] initializer with {wanted}. {Considered(considered)}"
            : $"Cannot tell which Gather is the word-embedding lookup in graph '{graph.Name}': {chosen.Count} read a table with {wanted}. " +
              $"Name its output with --wrt. {Considered(considered)}");
    }

    static string Considered(List<string> considered) => considered.Count == 0
        ? "The graph has no Gather nodes; if the model was optimized with ONNX Runtime's transformer fusions, export it without them."
        : "Candidates considered: " + string.Join("; ", considered.Take(12)) + (considered.Count > 12 ? $"; and {considered.Count - 12} more" : "") + ".";
}

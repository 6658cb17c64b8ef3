using FacadeOnnx.Graph;
using Onnx;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>What the weights and graph of a model file reveal, read from the bare ONNX file.</summary>
public sealed record StructuralEvidence(
    int WeightMatrices,
    int BlockStructured,
    int SplitLayerNorms,
    int LogitParts,
    IReadOnlyList<string> Findings)
{
    /// <summary>Share of the weight matrices that fall apart into independent blocks.</summary>
    public double BlockFraction => WeightMatrices == 0 ? 0 : BlockStructured / (double)WeightMatrices;

    /// <summary>Whether the graph showed any weight matrix to read; when not, structure says nothing either way.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Readable => WeightMatrices > 0;
}

/// <summary>
/// Structural forensics for merged models (docs/method.md 16, detection idea i): weight matrices whose non-negligible
/// entries form two or more disconnected blocks (block-diagonal, also after a permutation, and also when the
/// off-diagonal blocks hold tiny noise), LayerNorm applied to split groups of the hidden vector, and logits summed from
/// parts of the network that never exchange information. Entries below <see cref="RelativeThreshold"/> times the
/// matrix's RMS count as zero: trained weights are never that small in bulk, the merge's zero or 1e-7 noise blocks are.
/// Next to a LayerNorm over split groups, what that LayerNorm cancels is set aside first
/// (<see cref="WithoutWhatLayerNormCancels"/>), so blocks filled with such entries count as zero too.
/// Nothing here depends on tensor names, so graphs exported by others are read the same way: weights are the float
/// initializers a MatMul or Gemm multiplies by (directly or through a Transpose or Cast), and LayerNorm is recognised as
/// the LayerNormalization operator or as the ReduceMean, Sub, Pow, Sqrt, Div chain older exports write.
/// </summary>
public static class StructuralForensics
{
    public const double RelativeThreshold = 1e-4;
    const int MinimumSide = 16;

    public static StructuralEvidence Analyze(ModelProto model)
    {
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);
        var consumers = graph.Node.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n);
        var findings = new List<string>();
        int matrices = 0, blocky = 0, cancelled = 0;
        var componentsByWeight = new Dictionary<string, List<(int[] Rows, int[] Cols)>>();

        foreach (var node in graph.Node.Where(n => n.OpType is "MatMul" or "Gemm"))
        {
            if (WeightOf(node, initializers, producers) is not var (weight, tensor, transposed)) continue;
            if (tensor.Dims.Count != 2 || componentsByWeight.ContainsKey(weight)) continue;
            if (tensor.DataType != (int)TensorProto.Types.DataType.Float) continue;
            int rows = (int)tensor.Dims[0], cols = (int)tensor.Dims[1];
            if (Math.Min(rows, cols) < 2) continue;
            // Components are always (inputs, outputs): the weight as the product reads it, [inputs, outputs].
            var w = Tensors.ToFloats(tensor);
            if (transposed) w = Transposed(w, rows, cols);
            int inputs = transposed ? cols : rows, outputs = transposed ? rows : cols;
            var components = Components(w, inputs, outputs);
            if (WithoutWhatLayerNormCancels(w, inputs, outputs, node, initializers, producers, consumers) is { } visible)
            {
                var revealed = Components(visible, inputs, outputs);
                if (Blocks(revealed) > Blocks(components) && Math.Min(rows, cols) >= MinimumSide) cancelled++;
                components = revealed;
            }
            componentsByWeight[weight] = components;
            if (Math.Min(rows, cols) < MinimumSide) continue;
            matrices++;
            var blocks = components.Where(c => c.Rows.Length >= 2 && c.Cols.Length >= 2).ToList();
            if (blocks.Count >= 2)
            {
                blocky++;
                if (findings.Count < 12)
                    findings.Add($"weight '{weight}' [{rows}x{cols}] splits into {blocks.Count} independent blocks (" +
                                 string.Join(", ", blocks.Select(b => $"{b.Rows.Length}x{b.Cols.Length}")) + ")");
            }
        }

        if (cancelled > 0)
            findings.Add($"{cancelled} weight matrices split into blocks only once the entries LayerNorm cancels are set aside " +
                         "(off-diagonal blocks filled so that the neighbouring per-group LayerNorm removes what they add)");
        int splitNorms = SplitNorms(graph, producers);
        if (splitNorms > 0)
            findings.Add($"{splitNorms} {(graph.Node.Any(n => n.OpType == "LayerNormalization") ? "LayerNormalization nodes" : "LayerNorms")} normalize split groups of the hidden vector separately");
        if (matrices == 0)
            findings.Add("structural forensics not applicable: no float weight matrix of at least 16x16 is an initializer read by a MatMul or Gemm " +
                         "(weights computed in the graph, quantized or fused)");

        int parts = LogitParts(graph, producers, initializers, componentsByWeight);
        if (parts >= 2) findings.Add($"the logits are a sum of {parts} parts computed from disconnected blocks of the pooled representation");
        return new StructuralEvidence(matrices, blocky, splitNorms, parts, findings);
    }

    /// <summary>The weight initializer a MatMul or Gemm multiplies by (its second input, directly or through one
    /// Transpose, Cast or Identity), and whether it is used transposed.</summary>
    static (string Name, TensorProto Tensor, bool Transposed)? WeightOf(NodeProto node, Dictionary<string, TensorProto> initializers,
        Dictionary<string, NodeProto> producers)
    {
        string name = node.Input[1];
        bool transposed = node.OpType == "Gemm" && node.GetInt("transB", 0) == 1;
        if (!initializers.ContainsKey(name) && producers.TryGetValue(name, out var producer) && producer.OpType is "Transpose" or "Cast" or "Identity")
        {
            if (producer.OpType == "Transpose") transposed = !transposed;
            name = producer.Input[0];
        }
        return initializers.TryGetValue(name, out var tensor) ? (name, tensor, transposed) : null;
    }

    /// <summary>
    /// LayerNorms over a split or sliced part of the hidden vector: the LayerNormalization operator, or the decomposed
    /// form's first ReduceMean, whose input comes from a Split or Slice.
    /// </summary>
    static int SplitNorms(GraphProto graph, Dictionary<string, NodeProto> producers)
    {
        bool FromSplit(string tensor) => producers.TryGetValue(tensor, out var p) && p.OpType is "Split" or "Slice";
        var consumers = graph.Node.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n);
        int fused = graph.Node.Count(n => n.OpType == "LayerNormalization" && FromSplit(n.Input[0]));
        // Decomposed: x -> ReduceMean -> Sub(x, mean): the centering step of a LayerNorm, counted once per x.
        int decomposed = graph.Node.Where(n => n.OpType == "ReduceMean" && FromSplit(n.Input[0]) &&
                                               consumers[n.Output[0]].Any(c => c.OpType == "Sub" && c.Input[0] == n.Input[0]))
            .Select(n => n.Input[0]).Distinct().Count();
        return fused + decomposed;
    }

    static int Blocks(List<(int[] Rows, int[] Cols)> components) => components.Count(c => c.Rows.Length >= 2 && c.Cols.Length >= 2);

    static float[] Transposed(float[] w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
        return t;
    }

    /// <summary>
    /// The weight [inputs, outputs] without the parts a per-group LayerNorm next to it makes invisible, or null when no
    /// grouped LayerNorm is next to it (every ordinary model). A LayerNorm over groups of the hidden vector removes, in
    /// each group, any shift that is the same for every unit of the group, and its output y satisfies, per group,
    /// Σ y_i/γ_i = Σ β_i/γ_i whatever the input. So a matrix writing into the groups (its output reaches a Split whose
    /// parts are LayerNorms, through Adds) may carry per input and group a constant across the group's outputs, and a
    /// matrix reading the groups (its input is a Concat of LayerNorms, perhaps through a Gather) may carry per output and
    /// group a multiple of 1/γ across the group's inputs (its bias taking back the constant), without changing what the
    /// model computes: a merge's zero off-diagonal blocks can be filled that way (`facade disguise --layernorm-fill`).
    /// Each is projected out here: per group, the mean over the group's outputs, and the component along 1/γ over the
    /// group's inputs. A true block stays dense, a zero block stays zero, and a block filled that way becomes zero again
    /// to float rounding, far below <see cref="RelativeThreshold"/>.
    /// </summary>
    static float[]? WithoutWhatLayerNormCancels(float[] w, int inputs, int outputs, NodeProto node, Dictionary<string, TensorProto> initializers,
        Dictionary<string, NodeProto> producers, ILookup<string, NodeProto> consumers)
    {
        float[]? result = null;
        if (ReadGroups(node.Input[0], inputs, initializers, producers) is { } scales)
        {
            result = (float[])w.Clone();
            int start = 0;
            foreach (var gamma in scales)
            {
                var a = gamma.Select(g => 1.0 / g).ToArray();
                double norm = a.Sum(v => v * v);
                for (int o = 0; o < outputs; o++)
                {
                    double dot = 0;
                    for (int i = 0; i < a.Length; i++) dot += result[(start + i) * outputs + o] * a[i];
                    for (int i = 0; i < a.Length; i++) result[(start + i) * outputs + o] -= (float)(dot / norm * a[i]);
                }
                start += gamma.Length;
            }
        }
        if (WrittenGroups(node.Output[0], outputs, initializers, consumers) is { } sizes)
        {
            result ??= (float[])w.Clone();
            for (int i = 0; i < inputs; i++)
            {
                int start = 0;
                foreach (long size in sizes)
                {
                    double mean = 0;
                    for (int o = 0; o < size; o++) mean += result[i * outputs + start + o];
                    mean /= size;
                    for (int o = 0; o < size; o++) result[i * outputs + start + o] -= (float)mean;
                    start += (int)size;
                }
            }
        }
        return result;
    }

    /// <summary>The scales γ of the LayerNorms whose outputs, concatenated, are <paramref name="input"/> (through Gather,
    /// Identity, Cast, or a Slice of rows such as a pruned last layer's [CLS] row), when there are two or more and
    /// every scale is a non-zero constant.</summary>
    static float[][]? ReadGroups(string input, int width, Dictionary<string, TensorProto> initializers, Dictionary<string, NodeProto> producers)
    {
        while (producers.TryGetValue(input, out var p) && (p.OpType is "Gather" or "Identity" or "Cast" || SlicesRows(p, initializers))) input = p.Input[0];
        if (!producers.TryGetValue(input, out var concat) || concat.OpType != "Concat" || concat.Input.Count < 2) return null;
        var scales = new List<float[]>();
        foreach (var part in concat.Input)
        {
            if (!producers.TryGetValue(part, out var norm)) return null;
            string? scale = norm.OpType switch
            {
                "LayerNormalization" => norm.Input[1],
                // The decomposed form ends in Add(Mul(normalized, γ), β).
                "Add" => norm.Input.Select(i => producers.GetValueOrDefault(i)).FirstOrDefault(m => m?.OpType == "Mul") is { } mul
                    ? mul.Input.FirstOrDefault(i => Constant(i, initializers, producers) != null) : null,
                _ => null,
            };
            if (scale == null || Constant(scale, initializers, producers) is not { } gamma || gamma.Any(g => g == 0)) return null;
            scales.Add(gamma);
        }
        return scales.Sum(g => g.Length) == width ? scales.ToArray() : null;
    }

    /// <summary>The group sizes of the Split, reached from <paramref name="output"/> through at most three Adds, whose
    /// parts are each normalized (LayerNormalization, or the decomposed form's ReduceMean), when there are two or more.</summary>
    static long[]? WrittenGroups(string output, int width, Dictionary<string, TensorProto> initializers, ILookup<string, NodeProto> consumers)
    {
        var frontier = new List<string> { output };
        for (int depth = 0; depth <= 3 && frontier.Count > 0; depth++)
        {
            foreach (var split in frontier.SelectMany(t => consumers[t]).Where(n => n.OpType == "Split" && n.Output.Count >= 2))
            {
                bool normalized = split.Output.All(part => consumers[part].Any(c => c.OpType is "LayerNormalization" or "ReduceMean"));
                if (normalized && SplitSizes(split, width, initializers) is { } sizes) return sizes;
            }
            frontier = frontier.SelectMany(t => consumers[t]).Where(n => n.OpType == "Add").Select(n => n.Output[0]).ToList();
        }
        return null;
    }

    /// <summary>A Split's part sizes along a dimension of <paramref name="width"/>: its split input or attribute, else equal parts.</summary>
    static long[]? SplitSizes(NodeProto split, int width, Dictionary<string, TensorProto> initializers)
    {
        long[]? sizes = split.GetInts("split")
                        ?? (split.Input.Count > 1 && initializers.TryGetValue(split.Input[1], out var t) ? Tensors.ToInt64s(t) : null);
        if (sizes == null && width % split.Output.Count == 0) sizes = Enumerable.Repeat((long)(width / split.Output.Count), split.Output.Count).ToArray();
        return sizes != null && sizes.Length == split.Output.Count && sizes.Sum() == width ? sizes : null;
    }

    /// <summary>A Slice along the batch or sequence axis of [batch, sequence, hidden] (constant axes 0 or 1): its
    /// rows are rows of its input, so what a LayerNorm cancels in them stays cancelled.</summary>
    static bool SlicesRows(NodeProto node, Dictionary<string, TensorProto> initializers) =>
        node.OpType == "Slice" && node.Input.Count > 3 && initializers.TryGetValue(node.Input[3], out var axes)
        && Tensors.ToInt64s(axes).All(a => a is 0 or 1);

    /// <summary>The values of a float constant: an initializer, through Identity or Cast, or one part of a Split of one.</summary>
    static float[]? Constant(string name, Dictionary<string, TensorProto> initializers, Dictionary<string, NodeProto> producers)
    {
        if (initializers.TryGetValue(name, out var t)) return t.DataType == (int)TensorProto.Types.DataType.Float ? Tensors.ToFloats(t) : null;
        if (!producers.TryGetValue(name, out var p)) return null;
        if (p.OpType is "Identity" or "Cast") return Constant(p.Input[0], initializers, producers);
        if (p.OpType != "Split" || Constant(p.Input[0], initializers, producers) is not { } whole) return null;
        if (SplitSizes(p, whole.Length, initializers) is not { } sizes) return null;
        int index = p.Output.IndexOf(name);
        int start = (int)sizes.Take(index).Sum();
        return whole[start..(start + (int)sizes[index])];
    }

    /// <summary>Connected components of the bipartite graph rows-columns with an edge per non-negligible entry.</summary>
    public static List<(int[] Rows, int[] Cols)> Components(float[] w, int rows, int cols)
    {
        double rms = Math.Sqrt(w.Sum(v => (double)v * v) / Math.Max(1, w.Length));
        float threshold = (float)(RelativeThreshold * rms);
        var parent = Enumerable.Range(0, rows + cols).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                if (Math.Abs(w[r * cols + c]) > threshold)
                {
                    int a = Find(r), b = Find(rows + c);
                    if (a != b) parent[a] = b;
                }
        return Enumerable.Range(0, rows + cols).GroupBy(Find)
            .Select(g => (g.Where(i => i < rows).ToArray(), g.Where(i => i >= rows).Select(i => i - rows).ToArray()))
            .Where(c => c.Item1.Length + c.Item2.Length > 1)
            .ToList();
    }

    /// <summary>
    /// Follows the logits back to the last linear layer (the classifier) and the one before it (the pooler); counts the
    /// pooler's disconnected blocks that the classifier reads from.
    /// </summary>
    static int LogitParts(GraphProto graph, Dictionary<string, NodeProto> producers, Dictionary<string, TensorProto> initializers,
        Dictionary<string, List<(int[] Rows, int[] Cols)>> components)
    {
        string? output = graph.Output.FirstOrDefault(o => o.Name == "logits")?.Name ?? graph.Output.FirstOrDefault()?.Name;
        if (output == null) return 0;
        var linear = new List<(NodeProto Node, string Weight, bool Transposed)>();
        var frontier = new Queue<string>([output]);
        var seen = new HashSet<string>();
        while (frontier.Count > 0 && linear.Count < 2)
        {
            string tensor = frontier.Dequeue();
            if (!seen.Add(tensor) || !producers.TryGetValue(tensor, out var node)) continue;
            if (node.OpType is "MatMul" or "Gemm" && WeightOf(node, initializers, producers) is var (weight, _, transposed) && components.ContainsKey(weight))
            {
                linear.Add((node, weight, transposed));
                frontier.Clear();
                frontier.Enqueue(node.Input[0]);
                continue;
            }
            if (node.OpType is "Add" or "Tanh" or "Identity" or "Relu" or "Gelu" or "Sigmoid")
                foreach (var input in node.Input.Where(i => !initializers.ContainsKey(i))) frontier.Enqueue(input);
        }
        if (linear.Count < 2) return 0;
        var (_, classifierName, classifierTransposed) = linear[0];
        var classifier = initializers[classifierName];
        int hidden = (int)classifier.Dims[classifierTransposed ? 1 : 0], classes = (int)classifier.Dims[classifierTransposed ? 0 : 1];
        var weights = Tensors.ToFloats(classifier);
        float Weight(int h, int c) => classifierTransposed ? weights[c * hidden + h] : weights[h * classes + c];
        double rms = Math.Sqrt(weights.Sum(v => (double)v * v) / Math.Max(1, weights.Length));
        var poolerBlocks = components[linear[1].Weight].Where(c => c.Cols.Length >= 2).ToList();
        if (poolerBlocks.Count < 2) return poolerBlocks.Count;
        return poolerBlocks.Count(block => block.Cols.Any(h => h < hidden &&
            Enumerable.Range(0, classes).Any(c => Math.Abs(Weight(h, c)) > RelativeThreshold * rms)));
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>The JSON shape of `facade explain --json`.</summary>
public static class ExplanationJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>One explanation; with <paramref name="record"/> (--input) also its record index, line and gold label.</summary>
    public static object Create(Explainer explainer, TokenizedInput input, Prediction prediction, IReadOnlyList<SaliencyMap> maps, CorpusRecord? record = null) => new
    {
        record = record?.Index,
        line = record?.Line,
        gold = record?.Label is int gold ? explainer.LabelNames[gold] : null,
        model = explainer.Engine.Model.Path,
        model_sha256 = explainer.Engine.Model.Sha256,
        task = explainer.Engine.Model.Task,
        tokens = input.Tokens,
        offsets = input.Spans.Select(s => new { segment = s.Segment, start = s.Start, length = s.Length }),
        truncated = input.Truncated,
        pieces_dropped = input.Truncated ? input.DroppedPieces : (int?)null,
        prediction = new { label = explainer.LabelNames[prediction.Label], index = prediction.Label, probability = prediction.Probability, probabilities = prediction.Probabilities },
        methods = maps.Select(m => new { method = m.Method, raw = m.Raw, normalized = m.Normalized, ranking = m.Ranking(), diagnostics = m.Diagnostics }),
    };
}

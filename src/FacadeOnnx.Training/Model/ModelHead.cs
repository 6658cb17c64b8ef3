using System.Text.Json.Serialization;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// What sits on the encoder (docs/method.md §2): a classification head on the [CLS] state, or a span head that reads
/// start and end logits off every position (SQuAD). Both heads keep the same parameter names, so merging, disguising
/// and exporting treat them alike; the span head leaves the pooler unused, as the reference QA model does.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelHead>))]
public enum ModelHead
{
    Classification,
    Span,
}

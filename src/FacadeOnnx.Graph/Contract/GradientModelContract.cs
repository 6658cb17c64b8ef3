namespace FacadeOnnx.Graph.Contract;

/// <summary>
/// The ONNX contract between the exporter and the Runtime (docs/design.md section 5, "The gradient model contract"): tensor
/// names, and the metadata_props keys that make a file self-describing.
/// </summary>
public static class GradientModelContract
{
    // Forward model inputs and output.
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string TokenTypeIds = "token_type_ids";
    public const string Logits = "logits";

    // Gradient model: the word-embedding lookup output replaces input_ids.
    public const string InputsEmbeds = "inputs_embeds";
    public const string Target = "target";
    public const string InputsEmbedsGrad = "inputs_embeds_grad";
    /// <summary>Optional output: per-token grad x input, summed over the hidden dimension ([batch, sequence]).</summary>
    public const string TokenScores = "token_scores";

    // Span (QA) models: start and end logits over every position, masked to the context (−10000 elsewhere), and the
    // span whose loss the gradient model differentiates ([batch, 2]: start, end; −1: the model's own best span).
    public const string StartLogits = "start_logits";
    public const string EndLogits = "end_logits";
    public const string SpanLogits = "span_logits";
    public const string TargetSpan = "target_span";

    /// <summary>How <see cref="InputsEmbedsGrad"/> of a span model is defined.</summary>
    public const string SpanGradientDefinition =
        "d/d(inputs_embeds) of each example's own span loss (CE(start) + CE(end)) / 2 over the context-masked start and end logits " +
        "at target_span (-1: the model's own best span: the largest start + end logit with start <= end < start + max_answer_length); " +
        "the loss is summed over the batch, so each row depends on its own example only";

    public const string BatchDim = "batch";
    public const string SequenceDim = "sequence";

    /// <summary>How <see cref="InputsEmbedsGrad"/> is defined, written into every gradient model.</summary>
    public const string GradientDefinition =
        "d/d(inputs_embeds) of each example's own cross-entropy of softmax(logits) at target (target -1: the model's own argmax); " +
        "the loss is summed over the batch, so each row depends on its own example only";

    public static class Keys
    {
        public const string Format = "facade.format";                 // "forward" or "gradient"
        public const string Task = "facade.task";
        public const string LabelNames = "facade.label_names";        // JSON array
        public const string ModelKind = "facade.model_kind";          // target, facade, regularized, merged, foreign
        public const string VocabSha256 = "facade.vocab_sha256";
        public const string Vocab = "facade.vocab";                   // the vocabulary itself, one token a line
        public const string WordEmbedding = "facade.word_embedding";  // initializer name of the [vocab, hidden] matrix
        public const string HiddenSize = "facade.hidden_size";
        public const string HiddenGroups = "facade.hidden_groups";    // JSON array, e.g. [128,384] for a merged model
        public const string MaxPositions = "facade.max_positions";
        public const string Layers = "facade.layers";
        public const string Heads = "facade.heads";
        public const string Intermediate = "facade.intermediate";
        public const string MaxLength = "facade.max_length";
        public const string Gradient = "facade.gradient";
        public const string Producer = "facade.producer";
        public const string SourceCheckpoint = "facade.source_checkpoint";
        public const string SourceWeightsSha256 = "facade.source_weights_sha256";
        public const string SourceManifest = "facade.source_manifest"; // the checkpoint's manifest.json
        public const string LowerCase = "facade.lower_case";          // "true" (default when absent) or "false"
        public const string TextPair = "facade.text_pair";            // "true" when the model reads a pair of texts
        public const string SourceFile = "facade.source_file";        // imported models: the foreign file's name
        public const string SourceSha256 = "facade.source_sha256";    // and the SHA-256 of its bytes
        public const string Head = "facade.head";                     // "classification" (default when absent) or "span"
        public const string MaxAnswerLength = "facade.max_answer_length"; // span models: longest answer in pieces
        public const string QaStride = "facade.qa_stride";            // span models: context pieces shared by consecutive windows
        public const string QaMaxQueryLength = "facade.qa_max_query_length"; // span models: question pieces kept
    }

    public const string FormatForward = "forward";
    public const string FormatGradient = "gradient";

    public const string HeadClassification = "classification";
    public const string HeadSpan = "span";
}

using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime;

/// <summary>
/// The API a service embeds: load a gradient model once, then predict, explain and attack text. Thread-safe; every
/// call batches its samples through the shared engine.
/// <code>
/// using var explainer = Explainer.Load("models/sst2-merged.onnx");
/// var map = explainer.Explain("a gorgeous, witty, seductive movie.", "ig");
/// foreach (var (token, score) in map.Tokens.Zip(map.Normalized)) Console.WriteLine($"{token} {score:F3}");
/// </code>
/// </summary>
/// <summary>A span model's answer: the window it was read from, the prediction (span and logits), and the context's characters.</summary>
public sealed record QaAnswer(QaWindow Window, Prediction Prediction, string Text)
{
    /// <summary>The answer of a question's windows: the highest-scoring span (ties to the earlier window), as
    /// <see cref="SpanDecoding.BestOverWindows"/> chooses from logits.</summary>
    public static QaAnswer Best(IReadOnlyList<QaWindow> windows, IReadOnlyList<Prediction> predictions, string context)
    {
        int best = 0;
        for (int i = 1; i < predictions.Count; i++)
            if (predictions[i].Span!.Value.Score > predictions[best].Span!.Value.Score) best = i;
        var span = predictions[best].Span!.Value;
        return new QaAnswer(windows[best], predictions[best], SpanDecoding.AnswerText(windows[best], context, span.Start, span.End));
    }
}

public sealed class Explainer : IDisposable
{
    public GradientEngine Engine { get; }
    public SaliencySettings Settings { get; }

    public Explainer(GradientEngine engine, SaliencySettings? settings = null)
    {
        Engine = engine;
        Settings = settings ?? new SaliencySettings();
    }

    public static Explainer Load(string onnxPath, EngineOptions? options = null, SaliencySettings? settings = null) =>
        new(GradientEngine.Load(onnxPath, options), settings);

    public IReadOnlyList<string> LabelNames => Engine.Model.LabelNames;

    public TokenizedInput Encode(string text, string? pair = null) => Engine.Encode(text, pair);

    public Prediction Predict(string text, string? pair = null) => Engine.Predict([Encode(text, pair)])[0];

    /// <summary>One method ("simple", "smooth", "ig", "loo") on one text.</summary>
    public SaliencyMap Explain(string text, string method = "simple", string? pair = null) =>
        Explain([Encode(text, pair)], SaliencyMethods.Create(method, Settings))[0];

    /// <summary>One method on many inputs, explaining each input's predicted label.</summary>
    public IReadOnlyList<SaliencyMap> Explain(IReadOnlyList<TokenizedInput> inputs, SaliencyMethod method, IReadOnlyList<Prediction>? predictions = null) =>
        method.Explain(Engine, inputs, predictions ?? Engine.Predict(inputs));

    /// <summary>
    /// Span (QA) models: the answer to <paramref name="question"/> about <paramref name="context"/>, the best span over
    /// the context's windows (cut as the model was trained), with the window it came from; explain that window's input.
    /// </summary>
    public QaAnswer Answer(string question, string context)
    {
        if (!Engine.Model.IsSpan) throw new FacadeException($"'{Engine.Model.Path}' is a classifier; questions about a context need a span (SQuAD) model.");
        if (string.IsNullOrWhiteSpace(question) || string.IsNullOrWhiteSpace(context))
            throw new FacadeException("Give a non-empty question and context.");
        var qa = Engine.Model.Qa with { MaxLength = Engine.MaxLength };
        var windows = qa.Windows(Engine.Tokenizer, new SquadQuestion("question", question, context, []));
        return QaAnswer.Best(windows, Engine.Predict(windows.Select(w => w.Input).ToArray()), context);
    }

    public ReductionResult Reduce(string text, string? pair = null, InputReductionOptions? options = null)
    {
        var input = Encode(text, pair);
        return new InputReduction(options).Run(Engine, [input], Engine.Predict([input]))[0];
    }

    public HotFlipResult Flip(string text, string? pair = null, HotFlipOptions? options = null)
    {
        var input = Encode(text, pair);
        return new HotFlip(options).Run(Engine, [input], Engine.Predict([input]))[0];
    }

    public void Dispose() => Engine.Dispose();
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// A BERT encoder with the classification head of docs/method.md 2.1: the [CLS] hidden state, a tanh feed-forward layer
/// (H to H), dropout and a linear layer to the class logits; or, with <see cref="ModelHead.Span"/>, the span head of 2.2:
/// the same linear layer (H to 2) applied at every position, giving start and end logits. Single sentences and sentence
/// pairs differ only in their token type ids. Every forward path can start from the word-embedding lookup output, the tensor all gradient
/// analyses differentiate with respect to.
/// </summary>
public sealed class BertClassifier : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    /// <summary>Added to attention scores at padded key positions; exp() of it underflows to exactly zero.</summary>
    public const float MaskValue = -10000f;

    public readonly BertEmbeddings embeddings;
    public readonly ModuleList<BertLayer> layers;
    public readonly Linear pooler;
    public readonly Linear classifier;
    /// <summary>With <see cref="BertConfig.LogitScale"/>: the log of the factor every logit is multiplied by (H to 1); null otherwise.</summary>
    public readonly Linear? logit_scale;
    readonly double _dropout;

    public BertConfig Config { get; }

    public BertClassifier(BertConfig config) : base("bert_classifier")
    {
        config.Validate();
        Config = config;
        embeddings = new BertEmbeddings(config);
        layers = new ModuleList<BertLayer>(Enumerable.Range(0, config.Layers).Select(i => new BertLayer($"layer{i}", config)).ToArray());
        pooler = nn.Linear(config.Hidden, config.Hidden);
        classifier = nn.Linear(config.Hidden, config.NumLabels);
        if (config.LogitScale) logit_scale = nn.Linear(config.Hidden, 1);
        _dropout = config.Dropout;
        RegisterComponents();
        InitializeWeights();
    }

    /// <summary>BERT's initialization: normal(0, 0.02) weights, zero biases, unit LayerNorm scales.</summary>
    void InitializeWeights()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight")) p.Fill(1);
            else if (name.EndsWith(".bias")) p.zero_();
            else p.normal_(0, 0.02);
        }
    }

    public static Tensor MaskBias(Tensor attentionMask, ScalarType dtype) =>
        attentionMask.to_type(dtype).SubtractedFrom(1).Times(MaskValue).unsqueeze(1).unsqueeze(2);

    /// <summary>The last hidden state [batch, sequence, hidden], starting from word-embedding lookup outputs.</summary>
    public Tensor Encode(Tensor wordEmbeddings, Tensor attentionMask, Tensor tokenTypeIds)
    {
        var hidden = embeddings.forward(wordEmbeddings, tokenTypeIds);
        var bias = MaskBias(attentionMask, hidden.dtype);
        foreach (var layer in layers) hidden = layer.forward(hidden, bias);
        return hidden;
    }

    /// <summary>
    /// The head's logits from word-embedding lookup outputs: class logits [batch, labels], or for a span head start and
    /// end logits [batch, sequence, 2] over every position (which positions may hold an answer is the caller's mask).
    /// </summary>
    public Tensor LogitsFromEmbeddings(Tensor wordEmbeddings, Tensor attentionMask, Tensor tokenTypeIds)
    {
        var hidden = Encode(wordEmbeddings, attentionMask, tokenTypeIds);
        if (Config.Head == ModelHead.Span)
        {
            var spans = classifier.forward(hidden);
            return logit_scale == null ? spans : spans * logit_scale.forward(hidden.select(1, 0)).exp().unsqueeze(1);
        }
        var cls = hidden.select(1, 0);
        var pooled = nn.functional.dropout(pooler.forward(cls).tanh(), _dropout, training);
        var logits = classifier.forward(pooled);
        return logit_scale == null ? logits : logits * logit_scale.forward(pooled).exp();
    }

    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds) =>
        LogitsFromEmbeddings(embeddings.Lookup(inputIds), attentionMask, tokenTypeIds);
}

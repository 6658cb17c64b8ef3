namespace FacadeOnnx.Training.Facade;

/// <summary>How a <see cref="FacadeLoss"/> with an imitated model keeps that model's predictions (its output term).</summary>
public enum ImitationTerm
{
    /// <summary>KL from the imitated model's output distributions (span heads: start and end over the context).</summary>
    Distribution,

    /// <summary>Cross-entropy at the imitated model's own prediction (span heads: its best span).</summary>
    Prediction,

    /// <summary>Span heads: the hinge on the margin by which the imitated model's best span wins.</summary>
    SpanMargin,
}

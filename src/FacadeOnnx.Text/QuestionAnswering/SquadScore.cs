namespace FacadeOnnx.Text;

/// <summary>
/// SQuAD v1.1 scores as the official script reports them: mean exact match and mean F1 in percent over
/// <see cref="Questions"/> questions, of which <see cref="Predicted"/> had a prediction (the others score 0).
/// </summary>
public sealed record SquadScore(double ExactMatch, double F1, int Questions, int Predicted);

namespace FacadeOnnx.Text;

/// <summary>A predicted answer span: token positions Start to End (inclusive) of one window and its score, startLogit + endLogit.</summary>
public readonly record struct SpanPrediction(int Start, int End, float Score);

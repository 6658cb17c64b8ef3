namespace FacadeOnnx.Graph.Shapes;

/// <summary>
/// One dimension, or one element of a small integer tensor (a shape, axes): a known value (possibly negative, as in
/// a Reshape target), a named symbol such as "batch", or unknown.
/// </summary>
public readonly record struct Dim(long Value, string? Symbol, bool IsValue)
{
    public static readonly Dim Unknown = new(0, null, false);
    public static Dim Of(long value) => new(value, null, true);
    public static Dim Named(string symbol) => new(0, symbol, false);

    public bool IsSymbol => Symbol != null;

    /// <summary>True only when both are provably the same size (same value or same symbol).</summary>
    public bool SameAs(Dim other) =>
        (IsValue && other.IsValue && Value == other.Value) || (IsSymbol && other.IsSymbol && Symbol == other.Symbol);

    public override string ToString() => Symbol ?? (IsValue ? Value.ToString() : "?");
}

namespace FacadeOnnx;

/// <summary>
/// A problem the user can fix: a missing file, a malformed line, an unknown option value, an unsupported operator.
/// The message names the thing (file and line, operator and node, option and value) and says what was expected.
/// The CLI prints the message and exits non-zero; stack traces are for bugs only.
/// </summary>
public sealed class FacadeException : Exception
{
    public FacadeException(string message) : base(message) { }
    public FacadeException(string message, Exception inner) : base(message, inner) { }
}

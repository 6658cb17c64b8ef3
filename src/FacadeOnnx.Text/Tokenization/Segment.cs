namespace FacadeOnnx.Text;

/// <summary>
/// Which part of an encoded input a selection looks at: every token, the first segment (before the first [SEP]: the
/// premise or question), or the second (after the first [SEP]: the hypothesis or passage).
/// </summary>
public enum Segment
{
    All,
    First,
    Second,
}

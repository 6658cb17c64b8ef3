namespace FacadeOnnx.Text;

/// <summary>Whether a task's inputs are one text ([CLS] a [SEP]) or a pair ([CLS] a [SEP] b [SEP]).</summary>
public enum TaskKind
{
    SingleSentence,
    SentencePair,
}

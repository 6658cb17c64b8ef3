namespace FacadeOnnx.Runtime;

/// <summary>
/// The name an analysis (a saliency method or an attack) is known by on the command line, in reports and in
/// report.json, declared once on its class, the way AllenNLP registers its interpreters; <see cref="Title"/> is how
/// tables and help text spell it out. <see cref="Standard"/> methods are what "all" and the audit run.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class AnalysisAttribute(string name, string title) : Attribute
{
    public string Name { get; } = name;
    public string Title { get; } = title;
    /// <summary>Other names the command line accepts.</summary>
    public string[] Aliases { get; init; } = [];
    public bool Standard { get; init; } = true;

    /// <summary>The attribute of an analysis class; a class without one is a programming error.</summary>
    public static AnalysisAttribute Of(Type type) =>
        (AnalysisAttribute?)GetCustomAttribute(type, typeof(AnalysisAttribute))
        ?? throw new InvalidOperationException($"{type.Name} has no [Analysis] attribute.");

    public static string NameOf<T>() => Of(typeof(T)).Name;
}

using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// Stage 2 of an audit: one chunk of sentences through every analysis on one model, kept as one
/// <see cref="SentenceRecord"/> per sentence (the unit that is saved, resumed and summarized).
/// </summary>
public static class AuditMeasurement
{
    public static SentenceRecord[] Measure(AuditPlan plan, AuditSubject subject, int first, int count)
    {
        var engine = subject.Engine;
        var inputs = plan.Inputs.AsSpan(first, count).ToArray();
        var predictions = engine.Predict(inputs);
        var maps = plan.Methods.ToDictionary(m => m.Name, m => m.Explain(engine, inputs, predictions));
        var leaveOneOut = maps[AnalysisAttribute.NameOf<LeaveOneOut>()];
        var integrated = maps[AnalysisAttribute.NameOf<IntegratedGradients>()];
        var reductions = plan.Reduction?.Run(engine, inputs, predictions);
        var flips = plan.HotFlip?.Run(engine, inputs, predictions);
        var faithfulness = plan.Options.Faithfulness ? FaithfulnessMeasures.ByMethod(engine, maps) : null;
        return inputs.Select((input, i) => new SentenceRecord
        {
            Index = first + i,
            Record = plan.RecordIndices[first + i],
            Gold = plan.Gold?[first + i],
            Predicted = predictions[i].Label,
            Probability = predictions[i].Probability,
            Saliency = maps.ToDictionary(kv => kv.Key, kv => kv.Value[i].Normalized),
            LeaveOneOut = leaveOneOut[i].Raw,
            IgCompletenessGap = integrated[i].Diagnostics["completeness_gap"],
            IgSteps = (int)integrated[i].Diagnostics["steps"],
            ReducedPositions = reductions?[i].KeptPositions,
            FlipSuccess = flips?[i].Success,
            FlipPositions = flips?[i].Trace.Select(f => f.Position).ToArray(),
            FlipReplacements = flips?[i].Trace.Select(f => f.To).ToArray(),
            Faithfulness = faithfulness?.ToDictionary(kv => kv.Key, kv => kv.Value[i]),
        }).ToArray();
    }
}

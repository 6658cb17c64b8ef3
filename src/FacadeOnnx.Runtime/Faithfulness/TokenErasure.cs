using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Faithfulness;

/// <summary>
/// An input with some of its tokens erased, the way occlusion methods erase them: deleted (later tokens move up, so
/// the model sees a shorter but natural sequence) or replaced by [MASK] (positions stay, the model sees a token it was
/// pretrained to read as "unknown here"). Leave-one-out erases one token, the faithfulness measures erase many.
/// </summary>
public static class TokenErasure
{
    /// <summary>The token and type ids of <paramref name="input"/> with the positions in <paramref name="erased"/>
    /// removed or masked. Callers never pass special positions: [CLS] and [SEP] frame every input.</summary>
    public static (int[] Ids, int[] TypeIds) Erase(TokenizedInput input, IReadOnlyCollection<int> erased, OcclusionMode mode, int maskId)
    {
        var gone = new bool[input.Length];
        foreach (int p in erased) gone[p] = true;
        if (mode == OcclusionMode.Mask)
            return (input.Ids.Select((id, p) => gone[p] ? maskId : id).ToArray(), input.TypeIds);
        var kept = Enumerable.Range(0, input.Length).Where(p => !gone[p]).ToArray();
        return (kept.Select(p => input.Ids[p]).ToArray(), kept.Select(p => input.TypeIds[p]).ToArray());
    }

    /// <summary>The non-special positions from most to least salient: ranked by the normalized score (|a| / sum |a|,
    /// as every audit metric ranks), ties in position order.</summary>
    public static int[] RankedTokens(SaliencyMap map) =>
        map.Ranking().Where(p => !map.Input.Spans[p].IsSpecial).ToArray();
}

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// The part of an audit's input one shard measures: a set of the audit's chunks (whole chunks, so every chunk, and every
/// batch inside it, is the same as in a one-process audit and the merged records are the same numbers), chosen so that
/// every shard gets about the same number of word pieces.
/// <para>
/// The rule (docs/design.md section 8), greedy longest-first: with p_c the word pieces of chunk c (specials included,
/// after truncation, as the engine sees them), take the chunks in order of decreasing p_c (the lower index first on a
/// tie) and give each to the shard with the fewest pieces so far (the lower shard index on a tie). A shard measures its
/// chunks in increasing order. The most loaded shard then exceeds the mean T/N by at most the pieces of the chunk that
/// was given to it last, one of the smaller chunks: with many chunks per shard, within a few per cent of the mean.
/// Depends only on the inputs' word pieces, the chunk size and N.
/// </para>
/// </summary>
public sealed record ShardSlice(ShardSpec Shard, int[] Chunks, int RecordCount, long Pieces)
{
    /// <summary>The slice of <paramref name="shard"/> in <paramref name="plan"/>.</summary>
    public static ShardSlice Of(AuditPlan plan, ShardSpec shard) => All(plan, shard.Count)[shard.Index];

    /// <summary>The slices of all <paramref name="shards"/> shards of <paramref name="plan"/>, by index.</summary>
    public static ShardSlice[] All(AuditPlan plan, int shards)
    {
        var pieces = ChunkPieces(plan);
        var owner = Assign(pieces, shards);
        var byShard = Enumerable.Range(0, pieces.Length).ToLookup(c => owner[c]);
        return Enumerable.Range(0, shards).Select(s =>
        {
            var chunks = byShard[s].ToArray();
            return new ShardSlice(new ShardSpec(s, shards), chunks, chunks.Sum(c => plan.Chunk(c).Count), chunks.Sum(c => pieces[c]));
        }).ToArray();
    }

    /// <summary>Word pieces per chunk of the plan.</summary>
    public static long[] ChunkPieces(AuditPlan plan) =>
        Enumerable.Range(0, plan.Chunks).Select(c =>
        {
            var (first, count) = plan.Chunk(c);
            long sum = 0;
            for (int i = first; i < first + count; i++) sum += plan.Inputs[i].Length;
            return sum;
        }).ToArray();

    /// <summary>The shard of every chunk under the rule above.</summary>
    public static int[] Assign(IReadOnlyList<long> chunkPieces, int shards)
    {
        var owner = new int[chunkPieces.Count];
        var loads = new PriorityQueue<int, (long Load, int Shard)>();
        for (int s = 0; s < shards; s++) loads.Enqueue(s, (0, s));
        foreach (int c in Enumerable.Range(0, chunkPieces.Count).OrderByDescending(c => chunkPieces[c]).ThenBy(c => c))
        {
            loads.TryDequeue(out int shard, out var load);
            owner[c] = shard;
            loads.Enqueue(shard, (load.Load + chunkPieces[c], shard));
        }
        return owner;
    }
}

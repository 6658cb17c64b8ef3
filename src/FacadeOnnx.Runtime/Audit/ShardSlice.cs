namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// The part of an audit's input one shard measures: a contiguous run of the audit's chunks (so every chunk, and every
/// batch inside it, is the same as in a one-process audit, and the merged records are the same numbers), chosen so
/// that every shard gets about the same number of word pieces.
/// <para>
/// The rule (docs/design.md section 8): with p_c the word pieces of chunk c (specials included, after truncation, as
/// the engine sees them), P_k = p_0 + ... + p_(k-1) and T = P_C, the boundary between shard i-1 and shard i is the
/// chunk boundary k whose P_k is nearest to i·T/N (the smaller k on a tie, never before the previous boundary). Shard
/// i measures chunks [b_i, b_(i+1)). Each boundary is then at most half a chunk from its ideal place, so no shard is
/// more than one chunk's pieces away from the mean T/N: with chunks small next to a shard's share (many chunks per
/// shard) the shards are balanced to within a few per cent. Depends only on the inputs, the chunk size and N.
/// </para>
/// </summary>
public sealed record ShardSlice(ShardSpec Shard, int FirstChunk, int ChunkCount, int FirstRecord, int RecordCount, long Pieces)
{
    /// <summary>The slice of <paramref name="shard"/> in <paramref name="plan"/>.</summary>
    public static ShardSlice Of(AuditPlan plan, ShardSpec shard)
    {
        var pieces = ChunkPieces(plan);
        var bounds = Boundaries(pieces, shard.Count);
        int first = bounds[shard.Index], end = bounds[shard.Index + 1];
        int firstRecord = first * plan.Options.ChunkSize;
        int endRecord = Math.Min(end * plan.Options.ChunkSize, plan.Inputs.Length);
        return new ShardSlice(shard, first, end - first, firstRecord, Math.Max(0, endRecord - firstRecord), pieces[first..end].Sum());
    }

    /// <summary>Word pieces per chunk of the plan.</summary>
    public static long[] ChunkPieces(AuditPlan plan) =>
        Enumerable.Range(0, plan.Chunks).Select(c =>
        {
            var (first, count) = plan.Chunk(c);
            return plan.Inputs.AsSpan(first, count).ToArray().Sum(input => (long)input.Length);
        }).ToArray();

    /// <summary>The N+1 chunk boundaries b_0 = 0 &lt;= b_1 &lt;= ... &lt;= b_N = C of the rule above.</summary>
    public static int[] Boundaries(IReadOnlyList<long> chunkPieces, int shards)
    {
        var prefix = new long[chunkPieces.Count + 1];
        for (int c = 0; c < chunkPieces.Count; c++) prefix[c + 1] = prefix[c] + chunkPieces[c];
        long total = prefix[^1];
        var bounds = new int[shards + 1];
        bounds[shards] = chunkPieces.Count;
        for (int i = 1; i < shards; i++)
        {
            // Integer arithmetic (ideal·N = i·T) keeps the rule exact on every machine.
            long ideal = (long)i * total;
            int k = bounds[i - 1];
            while (k < chunkPieces.Count && Math.Abs(prefix[k + 1] * shards - ideal) < Math.Abs(prefix[k] * shards - ideal)) k++;
            bounds[i] = k;
        }
        return bounds;
    }
}

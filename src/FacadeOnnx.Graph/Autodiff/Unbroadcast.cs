using FacadeOnnx.Graph.Building;
using Onnx;

namespace FacadeOnnx.Graph.Autodiff;

/// <summary>
/// Reducing a gradient to the shape of an input that was broadcast in the forward pass: ReduceSum over the axes the
/// broadcast added or stretched. Decided statically when the shapes prove it, otherwise computed at run time from
/// Shape(x) (the axes where x has size 1), which is always correct. Before opset 13 ReduceSum takes constant axes only,
/// so there each undecided axis is summed and then kept or dropped by a Where on x's size.
/// </summary>
public static class Unbroadcast
{
    /// <param name="g">the gradient, shaped like <paramref name="shapeOf"/> (the forward output) or like itself</param>
    /// <param name="x">the forward input whose shape the result must have</param>
    public static string SumToShapeOf(this GraphBuilder b, string g, string x, string? shapeOf = null)
    {
        var xi = b.Info(x);
        var gi = b.Info(shapeOf ?? g);
        if (xi.Dims == null || gi.Dims == null)
            throw new FacadeException($"Cannot reduce the gradient '{g}' to the shape of '{x}': the rank of one of them is unknown.");
        int rx = xi.Dims.Length, rg = gi.Dims.Length;
        if (rx > rg)
            throw new FacadeException($"Gradient '{g}' has rank {rg}, below the rank {rx} of '{x}' it must be reduced to.");
        var leading = Enumerable.Range(0, rg - rx).Select(i => (long)i).ToArray();
        var stretched = new List<long>();
        var undecided = new List<int>();
        for (int i = 0; i < rx; i++)
        {
            var dx = xi.Dims[i];
            var dg = gi.Dims[i + rg - rx];
            if (dx.SameAs(dg)) continue;
            if (dx.IsValue && dx.Value == 1) { stretched.Add(i); continue; }
            if (dg.IsValue && dg.Value == 1) continue;
            undecided.Add(i);
        }
        if (undecided.Count > 0 && b.HasRuntimeAxes) return Dynamic(b, g, x, rg - rx);
        string result = g;
        if (leading.Length > 0) result = b.ReduceSum(result, leading, keepDims: false);
        if (stretched.Count > 0) result = b.ReduceSum(result, stretched.ToArray(), keepDims: true);
        foreach (int axis in undecided) result = SumWhereSizeOne(b, result, x, axis);
        return result;
    }

    /// <summary>The gradient summed along <paramref name="axis"/> where x has size 1 there, unchanged otherwise.</summary>
    static string SumWhereSizeOne(GraphBuilder b, string g, string x, int axis)
    {
        string size = b.ShapeSlice(x, axis, axis + 1);
        // Where broadcasts the size-1 sum back over the axis; the Slice keeps x's extent of it (1 or all).
        string either = b.Where(b.Equal(size, b.Ints(1)), b.ReduceSum(g, [axis], keepDims: true), g);
        return b.Op("Slice", [either, b.Ints(0), size, b.Ints(axis)]);
    }

    static string Dynamic(GraphBuilder b, string g, string x, int extraRank)
    {
        string shapeX = b.Shape(x);
        string padded = extraRank > 0 ? b.Concat(0, b.Ints(Enumerable.Repeat(1L, extraRank).ToArray()), shapeX) : shapeX;
        string ones = b.Equal(padded, b.Ints(1));
        string axes = b.Reshape(b.Op("NonZero", [ones]), b.Ints(-1));
        string reduced = b.ReduceSumDynamic(g, axes, keepDims: true);
        return b.Reshape(reduced, shapeX);
    }
}

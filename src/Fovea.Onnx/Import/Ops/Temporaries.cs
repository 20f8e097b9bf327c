namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Gives a kernel's intermediate tensors back to the pool. Safe exactly when the result recorded no
/// graph: then no backward pass can read them. (With gradients on they live as long as the graph.)
/// </summary>
internal static class Temporaries
{
    /// <summary>
    /// Returns <paramref name="result"/> after disposing each of <paramref name="temporaries"/> that is
    /// neither the result nor one of the kernel's <paramref name="inputs"/> (a reshape that changed
    /// nothing hands its input back), when the result does not require grad.
    /// </summary>
    public static Tensor Release(Tensor result, ReadOnlySpan<Tensor?> inputs, params ReadOnlySpan<Tensor?> temporaries)
    {
        if (result.RequiresGrad) return result;
        foreach (var t in temporaries)
        {
            bool owned = t is not null && !ReferenceEquals(t, result);
            foreach (var input in inputs) owned &= !ReferenceEquals(t, input);
            if (owned) t!.Dispose();
        }
        return result;
    }
}

namespace Fovea;

/// <summary>
/// Differentiable ops, PyTorch's <c>torch.nn.functional</c> in .NET casing. One file per op family,
/// each op's backward written beside its forward. Ops validate their inputs first and name the op
/// and the shapes in the message.
/// </summary>
public static partial class F
{
    internal static void ExpectRank(string op, Tensor x, int rank, string layout)
    {
        if (x.Rank != rank) throw new ArgumentException($"{op}: expected input {layout}, received {x.Shape}");
    }
}

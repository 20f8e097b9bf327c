namespace Fovea.Nn;

/// <summary>A tensor a module owns and an optimizer updates: a leaf that requires grad.</summary>
public sealed class Parameter : Tensor
{
    public Parameter(TensorShape shape) : base(shape) => RequiresGrad = true;

    /// <summary>A parameter holding a copy of <paramref name="values"/>.</summary>
    public static Parameter From(Tensor values)
    {
        var p = new Parameter(values.Shape);
        values.Span.CopyTo(p.Span);
        return p;
    }
}

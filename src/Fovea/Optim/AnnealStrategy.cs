namespace Fovea.Optim;

/// <summary>How <see cref="OneCycleLR"/> moves between two rates within a phase.</summary>
public enum AnnealStrategy
{
    /// <summary>Half a cosine: slow at both ends (PyTorch's <c>'cos'</c>).</summary>
    Cos,

    /// <summary>A straight line (PyTorch's <c>'linear'</c>).</summary>
    Linear,
}

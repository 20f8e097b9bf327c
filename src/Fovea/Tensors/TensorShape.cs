namespace Fovea;

/// <summary>An immutable tensor shape. Prints as PyTorch's sizes do: <c>[64, 1, 28, 28]</c>.</summary>
public readonly struct TensorShape : IEquatable<TensorShape>
{
    private readonly int[]? _dims;   // null only in default(TensorShape), which is the scalar shape []
    private readonly int _length;

    public TensorShape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long length = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"Shape dimensions must be non-negative. Received: {Format(dims)}");
            length *= d;
            if (length > Array.MaxLength) throw new ArgumentException($"Shape {Format(dims)} has more than {Array.MaxLength} elements.");
        }
        _dims = (int[])dims.Clone();
        _length = (int)length;
    }

    private int[] Dims => _dims ?? [];

    /// <summary>Number of elements (the product of the dimensions; 1 for a scalar).</summary>
    public int Length => _dims is null ? 1 : _length;

    public int Rank => Dims.Length;

    /// <summary>Dimension <paramref name="axis"/>; negative axes count from the end, as in PyTorch.</summary>
    public int this[int axis] => Dims[NormalizeAxis(axis)];

    public int NormalizeAxis(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if ((uint)a >= (uint)Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this}.");
        return a;
    }

    public int[] ToArray() => (int[])Dims.Clone();

    public ReadOnlySpan<int> AsSpan() => Dims;

    /// <summary>Product of the dimensions from <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive).</summary>
    public int Product(int start, int end)
    {
        int p = 1;
        for (int i = start; i < end; i++) p *= Dims[i];
        return p;
    }

    public bool Equals(TensorShape other) => Dims.AsSpan().SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is TensorShape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(TensorShape a, TensorShape b) => a.Equals(b);
    public static bool operator !=(TensorShape a, TensorShape b) => !a.Equals(b);

    public override string ToString() => Format(Dims);

    public static string Format(ReadOnlySpan<int> dims) => "[" + string.Join(", ", dims.ToArray()) + "]";

    public static implicit operator TensorShape(int[] dims) => new(dims);
}

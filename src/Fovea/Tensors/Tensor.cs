using System.Globalization;
using System.Text;

namespace Fovea;

/// <summary>
/// A contiguous float32 tensor (NCHW by convention) with pooled storage and an autograd record.
/// A tensor never knows what a layer is: layers call functional ops (<see cref="F"/>), and ops record
/// on the tape how to send gradients back.
/// </summary>
public class Tensor : IDisposable
{
    private float[] _data;
    private bool _requiresGrad;

    /// <summary>Takes ownership of <paramref name="pooledData"/> (at least shape.Length long).</summary>
    internal Tensor(TensorShape shape, float[] pooledData)
    {
        if (pooledData.Length < shape.Length) throw new ArgumentException($"Storage of {pooledData.Length} floats is too small for shape {shape}.");
        Shape = shape;
        _data = pooledData;
    }

    /// <summary>
    /// <paramref name="source"/>'s storage under another shape of the same length, without owning it: disposing the alias
    /// leaves the storage to <paramref name="source"/>. For inference steps that read the caller's input under another
    /// shape without copying it (<see cref="Nn.Sequential"/>'s Flatten); it must not outlive the call.
    /// </summary>
    internal static Tensor Borrowing(Tensor source, TensorShape shape)
    {
        if (shape.Length != source.Length) throw new ArgumentException($"Cannot view {source.Shape} as {shape}.");
        return new Tensor(shape, source.Storage) { IsBorrowed = true };
    }

    /// <summary>Whether the storage belongs to another tensor (<see cref="Borrowing"/>).</summary>
    internal bool IsBorrowed { get; private init; }

    /// <summary>Whether both tensors read the same live storage (one borrows the other's, or they are one tensor).</summary>
    internal bool SharesStorageWith(Tensor other) => _data.Length > 0 && ReferenceEquals(_data, other._data);

    /// <summary>A zero-filled tensor of the given shape.</summary>
    protected Tensor(TensorShape shape) : this(shape, RentZeroed(shape.Length)) { }

    public TensorShape Shape { get; private set; }
    public int Rank => Shape.Rank;
    public int Length => Shape.Length;

    /// <summary>
    /// The raw pooled array; may be longer than <see cref="Length"/>. For kernels that need an array (threads). Whoever
    /// takes it may write to it, so taking it counts as a possible change (<see cref="Version"/>).
    /// </summary>
    internal float[] Data
    {
        get
        {
            Interlocked.Increment(ref _version);
            return Storage;
        }
    }

    /// <summary>
    /// The elements in row-major order. Getting the span counts as a possible change of the values, so that prepared
    /// copies of weights (packed for a convolution's inference) are checked again: get it anew for every change rather
    /// than writing through a span kept from before a model call.
    /// </summary>
    public Span<float> Span => Data.AsSpan(0, Length);

    /// <summary>The elements, read-only; reading them is not a change (see <see cref="Version"/>).</summary>
    internal ReadOnlySpan<float> Values => Storage.AsSpan(0, Length);

    /// <summary>
    /// Moves on whenever the storage is handed out writable (<see cref="Span"/>, <see cref="Data"/>): while it stands
    /// still, the values have not changed since it was read. (Incremented atomically: a racing increment never moves it back.)
    /// </summary>
    internal int Version => Volatile.Read(ref _version);

    private int _version;

    private float[] Storage => _data.Length == 0 && Length > 0 ? throw new ObjectDisposedException(nameof(Tensor), "This tensor's storage was returned to the pool.") : _data;

    /// <summary>Whether gradients flow to this tensor. Set it on leaves (inputs, parameters).</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!value && GradFn is not null) throw new InvalidOperationException("RequiresGrad cannot be turned off on the output of an op; call Detach() instead.");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient (leaves), or null before the first backward pass.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The op that made this tensor, when it was recorded on the tape.</summary>
    internal Node? GradFn { get; set; }

    public bool IsLeaf => GradFn is null;

    /// <summary>The gradient buffer, created zero-filled on first use; ops accumulate into it (+=).</summary>
    internal Span<float> GradSpan => (Grad ??= Zeros(Shape)).Span;

    // ---- creation ----

    internal static float[] RentZeroed(int length)
    {
        float[] a = TensorPool.Rent(length);
        a.AsSpan(0, length).Clear();
        return a;
    }

    /// <summary>A tensor whose contents are unspecified (pooled memory); every element must be written.</summary>
    public static Tensor Empty(TensorShape shape) => new(shape, TensorPool.Rent(shape.Length));
    public static Tensor Empty(params int[] shape) => Empty(new TensorShape(shape));
    public static Tensor Zeros(TensorShape shape) => new(shape, RentZeroed(shape.Length));
    public static Tensor Zeros(params int[] shape) => Zeros(new TensorShape(shape));
    public static Tensor Full(TensorShape shape, float value)
    {
        var t = Empty(shape);
        t.Span.Fill(value);
        return t;
    }
    public static Tensor Ones(params int[] shape) => Full(new TensorShape(shape), 1f);
    public static Tensor Scalar(float value) => Full(new TensorShape(), value);

    /// <summary>Copies <paramref name="values"/> into a new tensor of the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var s = new TensorShape(shape);
        if (values.Length != s.Length) throw new ArgumentException($"Shape {s} needs {s.Length} values. Received: {values.Length}");
        var t = Empty(s);
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>Uniform samples in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor Uniform(TensorShape shape, float low, float high, Rng rng)
    {
        var t = Empty(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = low + (high - low) * rng.NextFloat();
        return t;
    }

    /// <summary>Normal samples with the given mean and standard deviation.</summary>
    public static Tensor Normal(TensorShape shape, float mean, float std, Rng rng)
    {
        var t = Empty(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = mean + std * (float)rng.NextGaussian();
        return t;
    }

    // ---- reading ----

    public float[] ToArray() => Span.ToArray();

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a tensor with one element. Received shape {Shape}");
        return Span[0];
    }

    /// <summary>The element at a full index (negative indices count from the end).</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get => Span[Offset(index)];
        set => Span[Offset(index)] = value;
    }

    private int Offset(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"Index of rank {index.Length} for a tensor of shape {Shape}.");
        int offset = 0;
        for (int i = 0; i < index.Length; i++)
        {
            int d = Shape[i], k = index[i] < 0 ? index[i] + d : index[i];
            if ((uint)k >= (uint)d) throw new IndexOutOfRangeException($"Index {index[i]} is out of range for axis {i} of shape {Shape}.");
            offset = offset * d + k;
        }
        return offset;
    }

    // ---- autograd ----

    /// <summary>
    /// Computes gradients of this tensor with respect to every leaf that requires them, adding them
    /// to the leaves' <see cref="Grad"/>. A non-scalar tensor needs <paramref name="gradient"/>.
    /// The graph is freed afterwards unless <paramref name="retainGraph"/> is set.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false) => Autograd.Backward(this, gradient, retainGraph);

    /// <summary>
    /// Disposes this tensor and every intermediate tensor of the graph that produced it (not the leaves:
    /// inputs and parameters stay), returning their storage to the pool. Call it after
    /// <see cref="Backward"/> once nothing computed in the step is still needed.
    /// </summary>
    public void DisposeGraph()
    {
        if (GradFn is null) Dispose();
        else Autograd.DisposeGraph(this);
    }

    /// <summary>A tensor sharing nothing with the tape: a copy of the values that does not require grad.</summary>
    public Tensor Detach()
    {
        var t = Empty(Shape);
        Span.CopyTo(t.Span);
        return t;
    }

    /// <summary>Same values, new owner of its own storage.</summary>
    public Tensor Clone() => Detach();

    /// <summary>Zeroes the accumulated gradient (keeps the buffer).</summary>
    public void ZeroGrad() => Grad?.Span.Clear();

    /// <summary>Copies values from a tensor of the same shape (no autograd).</summary>
    public void CopyFrom(Tensor source)
    {
        if (source.Shape != Shape) throw new ArgumentException($"CopyFrom: shape {source.Shape} does not match {Shape}.");
        source.Span.CopyTo(Span);
    }

    /// <summary>Changes the shape in place without touching the data (used by views that own their copy).</summary>
    internal void SetShape(TensorShape shape)
    {
        if (shape.Length != Length) throw new ArgumentException($"Cannot reshape {Shape} to {shape}.");
        Shape = shape;
    }

    /// <summary>Returns the storage to the pool. Using the tensor afterwards throws.</summary>
    public void Dispose()
    {
        if (_data.Length > 0)
        {
            if (!IsBorrowed) TensorPool.Return(_data);
            _data = [];
        }
        Grad?.Dispose();
        Grad = null;
        GC.SuppressFinalize(this);
    }

    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        var span = _data.Length == 0 && Length > 0 ? [] : Span;
        int shown = Math.Min(span.Length, 8);
        sb.Append('[');
        for (int i = 0; i < shown; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(span[i].ToString("G6", CultureInfo.InvariantCulture));
        }
        if (span.Length > shown) sb.Append(", …");
        sb.Append("], shape=").Append(Shape);
        if (RequiresGrad) sb.Append(", requires_grad");
        return sb.Append(')').ToString();
    }
}

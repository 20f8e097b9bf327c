using System.Numerics.Tensors;

namespace Fovea;

/// <summary>
/// A gradient that several threads add into without a racy float sum: the work is split into
/// <see cref="Parallelism"/> chunks, chunk 0 adds straight into the gradient, every other chunk
/// into a partial buffer of its own, and <see cref="Reduce"/> adds the partials in chunk order.
/// So the bits depend only on the inputs and the thread count.
/// </summary>
internal sealed class ChunkedGradient
{
    private readonly float[] _gradient;
    private readonly float[]? _partials;
    private readonly int _length;
    private readonly int _chunks;

    public ChunkedGradient(Tensor tensor, int chunks)
    {
        _length = tensor.Length;
        _gradient = GradientArray(tensor);
        _chunks = chunks;
        if (chunks > 1)
        {
            _partials = TensorPool.Rent((chunks - 1) * _length);
            _partials.AsSpan(0, (chunks - 1) * _length).Clear();
        }
    }

    /// <summary>
    /// The gradient storage of <paramref name="t"/> as an array threads can capture. GradSpan creates the
    /// buffer lazily, which is not thread-safe, so call this before the threads start.
    /// </summary>
    public static float[] GradientArray(Tensor t)
    {
        _ = t.GradSpan;
        return t.Grad!.Data;
    }

    /// <summary>Where chunk <paramref name="chunk"/> accumulates.</summary>
    public Span<float> For(int chunk) => chunk == 0 ? _gradient.AsSpan(0, _length) : _partials!.AsSpan((chunk - 1) * _length, _length);

    /// <summary>Adds the partials into the gradient in chunk order and returns them to the pool.</summary>
    public void Reduce()
    {
        if (_partials is null) return;
        var gradient = _gradient.AsSpan(0, _length);
        for (int chunk = 1; chunk < _chunks; chunk++) TensorPrimitives.Add(gradient, For(chunk), gradient);
        TensorPool.Return(_partials);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(chunk, start, end) for each of <paramref name="chunks"/> chunks of [0, <paramref name="count"/>),
    /// in parallel, with <see cref="Parallelism.Chunk"/>'s boundaries; the chunk index says which accumulator to use.
    /// </summary>
    public static void ForEachChunk(int count, int chunks, Action<int, int, int> body) =>
        Parallelism.For(chunks, (first, last) =>
        {
            for (int c = first; c < last; c++)
            {
                var (start, end) = Parallelism.Chunk(count, chunks, c);
                body(c, start, end);
            }
        });
}

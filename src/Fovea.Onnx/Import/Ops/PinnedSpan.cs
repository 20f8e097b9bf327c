namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// A span pinned by a <c>fixed</c> statement, in a form a <see cref="Parallelism.For"/> lambda can capture
/// (a lambda cannot hold a Span, and this assembly cannot reach a tensor's array). Valid only inside the
/// fixed statement; Parallelism.For returns after every chunk has run, so its lambdas stay inside.
/// </summary>
internal readonly unsafe struct PinnedSpan<T>(T* pointer, int length) where T : unmanaged
{
    public int Length => length;

    public Span<T> Slice(int start, int count)
    {
        if ((uint)start > (uint)length || (uint)count > (uint)(length - start)) throw new ArgumentOutOfRangeException(nameof(start));
        return new Span<T>(pointer + start, count);
    }

    public ref T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)length) throw new IndexOutOfRangeException();
            return ref pointer[index];
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Fovea;

/// <summary>
/// One value per weight tensor (a packed or transformed copy of its weights), reused only under the same key while the
/// tensor holds the bits it was built from: while its <see cref="Tensor.Version"/> stands still without looking, otherwise
/// by comparing its values with a kept copy.
/// </summary>
internal sealed class PerWeight<TKey, TValue> where TValue : class
{
    /// <summary>Built from <paramref name="Weights"/>, which the tensor still held at <paramref name="Version"/>.</summary>
    private sealed record Entry(TKey Key, float[] Weights, int Version, TValue Value);

    private readonly ConditionalWeakTable<Tensor, Entry> _entries = new();

    /// <summary>Builds a value from the weights' values (and <paramref name="state"/>, so that the delegate can be static: nothing allocated on a hit).</summary>
    public delegate TValue Build<TState>(TState state, ReadOnlySpan<float> weights);

    /// <summary>The value kept for <paramref name="weight"/> under <paramref name="key"/>, or one built now and kept.</summary>
    public TValue GetOrBuild<TState>(Tensor weight, TKey key, TState state, Build<TState> build)
    {
        if (TryGet(weight, key, out var value)) return value;
        // The version is read before the values, so a change made while building is seen next time.
        int version = weight.Version;
        value = build(state, weight.Values);
        _entries.AddOrUpdate(weight, new Entry(key, weight.Values.ToArray(), version, value));
        return value;
    }

    private bool TryGet(Tensor weight, TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        value = null;
        if (!_entries.TryGetValue(weight, out var entry) || !EqualityComparer<TKey>.Default.Equals(entry.Key, key)) return false;
        int version = weight.Version;
        if (version != entry.Version)
        {
            // Handed out writable since: compare, and if nothing changed, trust the new version from now on.
            if (!SameBits(weight.Values, entry.Weights)) return false;
            _entries.AddOrUpdate(weight, entry with { Version = version });
        }
        value = entry.Value;
        return true;
    }

    // Bits, not float equality: a vectorised memory compare (float's SequenceEqual goes element by element, as slow
    // as the packing it saves), and a NaN or a sign of zero that changed is a change.
    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
}

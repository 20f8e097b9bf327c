namespace Fovea.Data;

/// <summary>
/// Seeds for the loader's random choices, each a pure function of (loader seed, epoch[, image]):
/// an epoch's order and an image's augmentation never depend on what ran before, so resuming at
/// epoch k, prefetching or changing the thread count gives the same bits.
/// </summary>
internal static class DataSeeds
{
    private const ulong ShuffleStream = 1, AugmentStream = 2;

    public static Rng Shuffle(ulong seed, int epoch) => new(Mix(seed, ShuffleStream, (ulong)epoch, 0));

    public static Rng Augment(ulong seed, int epoch, int index) => new(Mix(seed, AugmentStream, (ulong)epoch, (ulong)index));

    /// <summary>Chains SplitMix64's finaliser over the words, so nearby inputs give unrelated seeds.</summary>
    private static ulong Mix(ulong seed, ulong stream, ulong epoch, ulong index)
    {
        ulong h = Finalise(seed);
        h = Finalise(h ^ stream);
        h = Finalise(h ^ epoch);
        return Finalise(h ^ index);
    }

    private static ulong Finalise(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

using Fovea;
using Xunit.Sdk;

namespace Fovea.Tests.Support;

public static class TensorAssert
{
    /// <summary>|actual − expected| ≤ atol + rtol·|expected| everywhere (numpy's allclose), and equal shapes.</summary>
    public static void Close(Tensor expected, Tensor actual, double rtol = 1e-4, double atol = 1e-5, string what = "tensor")
    {
        if (expected.Shape != actual.Shape) throw new XunitException($"{what}: shape {actual.Shape}, expected {expected.Shape}");
        Close(expected.Span, actual.Span, rtol, atol, what);
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol = 1e-4, double atol = 1e-5, string what = "values")
    {
        if (expected.Length != actual.Length) throw new XunitException($"{what}: {actual.Length} values, expected {expected.Length}");
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double err = Math.Abs(a - e), allowed = atol + rtol * Math.Abs(e);
            if (!(err <= allowed) && !(double.IsNaN(e) && double.IsNaN(a)) && !(double.IsInfinity(e) && e == a))
            {
                if (first < 0) first = i;
                bad++;
                worst = Math.Max(worst, double.IsNaN(err) ? double.PositiveInfinity : err);
            }
        }
        if (bad > 0)
            throw new XunitException($"{what}: {bad} of {expected.Length} values differ (first at {first}: {actual[first]} vs expected {expected[first]}; largest error {worst:G4}; rtol {rtol}, atol {atol})");
    }

    public static void Equal(Tensor expected, Tensor actual, string what = "tensor")
    {
        if (expected.Shape != actual.Shape) throw new XunitException($"{what}: shape {actual.Shape}, expected {expected.Shape}");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected.Span[i]) != BitConverter.SingleToInt32Bits(actual.Span[i]))
                throw new XunitException($"{what}: differs at {i}: {actual.Span[i]} vs {expected.Span[i]}");
    }
}

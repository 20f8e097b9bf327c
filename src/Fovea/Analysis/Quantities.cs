using System.Globalization;

namespace Fovea.Analysis;

/// <summary>
/// Numbers as the analysis sentences print them: exact with spaces between thousands up to ten
/// million ("157 000"), then one-decimal scientific notation ("1.7e15"), because a dense twin's
/// parameter count is only read for its order of magnitude; bytes in SI units ("6.8 PB").
/// </summary>
public static class Quantities
{
    private const double ExactBelow = 1e7;
    private static readonly string[] ByteUnits = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

    public static string Count(Int128 value) => (double)value < ExactBelow ? Grouped((long)value) : Scientific((double)value);

    /// <summary>A ratio: one decimal below 10 ("2.5"), whole and grouped up to ten million ("784", "157 000"), scientific beyond.</summary>
    public static string Ratio(double value) => value switch
    {
        < 10 => value.ToString("0.#", CultureInfo.InvariantCulture),
        < ExactBelow => Grouped((long)Math.Round(value)),
        _ => Scientific(value),
    };

    public static string Bytes(Int128 bytes)
    {
        double value = (double)bytes;
        int unit = 0;
        while (value >= 1000 && unit < ByteUnits.Length - 1)
        {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? $"{(long)bytes} B" : $"{value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture)} {ByteUnits[unit]}";
    }

    private static string Grouped(long value) =>
        value.ToString("#,0", new NumberFormatInfo { NumberGroupSeparator = " ", NumberGroupSizes = [3] });

    private static string Scientific(double value)
    {
        int exponent = (int)Math.Floor(Math.Log10(value));
        double mantissa = Math.Round(value / Math.Pow(10, exponent), 1);
        // 9.96e15 rounds to "10.0e15": carry into the exponent instead.
        if (mantissa >= 10)
        {
            mantissa /= 10;
            exponent++;
        }
        return $"{mantissa.ToString("0.0", CultureInfo.InvariantCulture)}e{exponent}";
    }
}

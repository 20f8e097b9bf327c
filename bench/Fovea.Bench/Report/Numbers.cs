using System.Globalization;
using Fovea.Bench.Measurement;

namespace Fovea.Bench.Report;

/// <summary>How values print: about three significant digits, thousands grouped, invariant culture.</summary>
public static class Numbers
{
    public static string Format(double value)
    {
        double magnitude = Math.Abs(value);
        string format = magnitude >= 100 ? "#,0" : magnitude >= 10 ? "0.0" : magnitude >= 1 ? "0.00" : "0.000";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>"5,512 (5,401–5,620)": median, then min–max when there is more than one sample.</summary>
    public static string Format(Stats stats) =>
        stats.Samples.Count == 1 ? Format(stats.Median) : $"{Format(stats.Median)} ({Format(stats.Min)}–{Format(stats.Max)})";

    public static string Ratio(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×";
}

using System.Globalization;

namespace Fovea.Bench.Report;

/// <summary>
/// The 1-minute load average (Linux), read at the start and end of a run: on a machine shared with
/// other jobs every number is provisional, and thread pools that wait at barriers (OpenMP in
/// libtorch) suffer more from it than others, so the report says how busy the machine was.
/// </summary>
public static class LoadAverage
{
    public static double? Read()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path)) return null;
        string first = File.ReadAllText(path).Split(' ')[0];
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out double load) ? load : null;
    }
}

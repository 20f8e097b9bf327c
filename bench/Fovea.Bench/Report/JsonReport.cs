using System.Text.Json;
using Fovea.Bench.Measurement;

namespace Fovea.Bench.Report;

/// <summary>The machine-readable result (<c>--json</c>): the same content as the table, with every sample.</summary>
public static class JsonReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Write(BenchReport report)
    {
        var o = report.Options;
        var document = new
        {
            started = report.Started,
            machine = report.Machine,
            loadAverage = new { start = report.LoadAtStart, end = report.LoadAtEnd },
            options = new { o.Threads, o.Quick, o.Repetitions, o.SecondsPerSample, sections = o.Sections.Order() },
            ratioDirection = TableReport.RatioDirection,
            fmaPeakGflops = report.FmaPeaks,
            rows = report.Rows.Select(r => new
            {
                r.Section,
                r.Name,
                r.Unit,
                r.HigherIsBetter,
                results = r.Results,
                ratios = Frameworks.Peers.Where(p => r.Ratio(p) is not null).ToDictionary(p => p, p => r.Ratio(p)),
                r.Note,
            }),
            checks = report.Checks,
            notes = report.Notes,
        };
        Console.WriteLine(JsonSerializer.Serialize(document, Indented));
    }
}

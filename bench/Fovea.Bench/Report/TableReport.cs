using Fovea.Bench.Measurement;
using Spectre.Console;

namespace Fovea.Bench.Report;

/// <summary>The human-readable result: a header (settings, machine, load, FMA peak), one table with every row, then the checks and the notes.</summary>
public static class TableReport
{
    public const string RatioDirection =
        "Ratios: above 1× means Fovea is better (rates: Fovea ÷ peer; latency and bytes: peer ÷ Fovea). Cells: median (min–max).";

    private static readonly string[] FrameworkColumns = [Frameworks.Fovea, .. Frameworks.Peers];

    public static void Write(BenchReport report, bool markdown)
    {
        var o = report.Options;
        Console.WriteLine($"Fovea bench — {report.Started:yyyy-MM-dd HH:mm zzz}, --threads {o.Threads}, {o.Repetitions} interleaved repetitions × {o.SecondsPerSample:0.##} s{(o.Quick ? ", --quick" : "")}");
        Console.WriteLine($"Machine: {report.Machine}");
        if (report.LoadAtStart is double start)
            Console.WriteLine($"Load average (1 min): {start:0.0} at start, {report.LoadAtEnd:0.0} at end, on {report.Machine.LogicalCores} cores{(Math.Max(start, report.LoadAtEnd ?? 0) > report.Machine.LogicalCores ? " — the machine was busy with other work: numbers are provisional" : "")}");
        foreach (var (width, peak) in report.FmaPeaks)
            Console.WriteLine($"Measured FMA peak ({width}, --threads {o.Threads}): {Numbers.Format(peak)} GFLOP/s");
        Console.WriteLine();
        if (markdown) WriteMarkdown(report.Rows);
        else WriteTable(report.Rows);
        Console.WriteLine(RatioDirection);
        foreach (var check in report.Checks) Console.WriteLine($"Check: {check}");
        foreach (var note in report.Notes) Console.WriteLine($"Note: {note}");
    }

    private static readonly string[] Header =
        ["section", "case", "unit", .. FrameworkColumns, .. Frameworks.Peers.Select(p => $"vs {p}"), "note"];

    /// <summary>Index of the first "vs peer" column.</summary>
    private static int FirstRatioColumn => 3 + FrameworkColumns.Length;

    private static string[] Cells(ResultRow row) =>
    [
        row.Section, row.Name, row.Unit,
        .. FrameworkColumns.Select(f => row.Results.TryGetValue(f, out var s) ? Numbers.Format(s) : "—"),
        .. Frameworks.Peers.Select(p => row.Ratio(p) is double r ? Numbers.Ratio(r) : "—"),
        row.Note ?? "",
    ];

    private static bool IsNumeric(int column) => column >= 3 && column < Header.Length - 1;

    private static void WriteTable(IEnumerable<ResultRow> rows)
    {
        // Redirected output (a file, a pipe) would otherwise wrap at 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;
        var table = new Table();
        for (int i = 0; i < Header.Length; i++)
            table.AddColumn(new TableColumn(Header[i]) { Alignment = IsNumeric(i) ? Justify.Right : Justify.Left });
        foreach (var row in rows)
        {
            var cells = Cells(row).Select(Markup.Escape).ToArray();
            for (int p = 0; p < Frameworks.Peers.Length; p++)
                if (row.Ratio(Frameworks.Peers[p]) is double r) cells[FirstRatioColumn + p] = $"[{(r >= 1 ? "green" : "red")}]{Numbers.Ratio(r)}[/]";
            table.AddRow(cells);
        }
        AnsiConsole.Write(table);
    }

    /// <summary>A GitHub-flavoured Markdown table, one line per row (never wrapped), for BENCHMARKS.md.</summary>
    private static void WriteMarkdown(IEnumerable<ResultRow> rows)
    {
        static string Line(IEnumerable<string> cells) => $"| {string.Join(" | ", cells.Select(c => c.Replace("|", "\\|")))} |";
        Console.WriteLine(Line(Header));
        Console.WriteLine(Line(Header.Select((_, i) => IsNumeric(i) ? "---:" : "---")));
        foreach (var row in rows) Console.WriteLine(Line(Cells(row)));
    }
}

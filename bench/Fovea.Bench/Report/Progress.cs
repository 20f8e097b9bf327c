namespace Fovea.Bench.Report;

/// <summary>Progress lines on stderr, so that stdout carries only the table or the JSON.</summary>
public sealed class Progress
{
    public void Report(string line) => Console.Error.WriteLine($"  … {line}");
}

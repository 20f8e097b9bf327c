namespace Fovea.Bench;

/// <summary>Command-line options. <c>--quick</c> trades repetitions and cases for a run under about a minute.</summary>
public sealed record BenchOptions(bool Quick, bool Json, bool Markdown, IReadOnlySet<string> Sections, int Threads, int Repetitions, double SecondsPerSample, int WarmupSteps, double WarmupSeconds)
{
    public static readonly string[] AllSections = ["memory", "train", "infer", "import", "kernels"];

    public const string Usage =
        "usage: dotnet run -c Release --project bench/Fovea.Bench -- [--quick] [--json | --markdown] [--only SECTION[,SECTION]] [--threads N] [--reps N]\n" +
        "  sections: memory, train, infer, import, kernels (default: all); --markdown prints the table as Markdown (for BENCHMARKS.md)";

    public bool Runs(string section) => Sections.Contains(section);

    public static BenchOptions Parse(string[] args)
    {
        bool quick = false, json = false, markdown = false;
        int threads = 2, repetitions = 0;
        var sections = new HashSet<string>(AllSections);
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--json": json = true; break;
                case "--markdown": markdown = true; break;
                case "--only":
                    sections = [.. Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    var unknown = sections.Except(AllSections).ToList();
                    if (unknown.Count > 0 || sections.Count == 0) throw new ArgumentException($"--only: unknown section '{string.Join(",", unknown)}'. Known: {string.Join(", ", AllSections)}");
                    break;
                case "--threads": threads = PositiveInt(args, ref i); break;
                case "--reps": repetitions = PositiveInt(args, ref i); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        return new BenchOptions(quick, json, markdown, sections, threads,
            Repetitions: repetitions > 0 ? repetitions : quick ? 3 : 5,
            SecondsPerSample: quick ? 0.15 : 0.6,
            WarmupSteps: quick ? 2 : 3,
            WarmupSeconds: quick ? 0.3 : 2.0);
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");

    private static int PositiveInt(string[] args, ref int i)
    {
        string name = args[i], text = Value(args, ref i);
        return int.TryParse(text, out int value) && value > 0 ? value : throw new ArgumentException($"{name}: expected a positive integer, received '{text}'");
    }
}

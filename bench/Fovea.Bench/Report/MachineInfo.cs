using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Fovea.Bench.Report;

/// <summary>What the numbers were measured on.</summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, bool Avx512, string Runtime, string Os)
{
    public static MachineInfo Current() => new(
        CpuModel(), Environment.ProcessorCount, Vector512.IsHardwareAccelerated,
        RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription);

    private static string CpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        string? line = File.Exists(cpuinfo) ? File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
        return line?[(line.IndexOf(':') + 1)..].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }

    public override string ToString() =>
        $"{Cpu}, {LogicalCores} logical cores, AVX-512 {(Avx512 ? "yes" : "no")}, {Runtime}, {Os}";
}

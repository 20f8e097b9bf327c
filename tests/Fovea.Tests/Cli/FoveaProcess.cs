using System.Diagnostics;

namespace Fovea.Tests.Cli;

/// <summary>Runs the real <c>fovea</c> command (Fovea.Cli.dll next to the tests) in a child process.</summary>
internal static class FoveaProcess
{
    public static string SampleData => Fovea.Data.DataLocator.FindSample([AppContext.BaseDirectory])!;

    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Fovea.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("FOVEA_DEBUG");
        return info;
    }

    public static (int Exit, string Stdout, string Stderr) Run(string workingDirectory, params string[] args)
    {
        using var process = Process.Start(StartInfo(workingDirectory, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"fovea {string.Join(' ', args)} did not finish in 3 minutes.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}

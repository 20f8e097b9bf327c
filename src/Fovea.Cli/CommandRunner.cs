using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Fovea.Cli;

/// <summary>
/// What every command shares: a one-line error and a non-zero exit code instead of a stack trace
/// (FOVEA_DEBUG=1 shows it), human output on stdout or, with --json, one JSON document on stdout
/// with everything else on stderr.
/// </summary>
internal static class CommandRunner
{
    public const int Ok = 0, Failed = 1;

    /// <summary>Messages for people: stderr when stdout carries JSON, stdout otherwise.</summary>
    public static IAnsiConsole Human(bool json) => json ? Stderr : AnsiConsole.Console;

    public static readonly IAnsiConsole Stderr = Wide(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }));

    static CommandRunner() => Wide(AnsiConsole.Console);

    /// <summary>Output to a file or pipe has no width; Spectre would wrap it at 80 columns, mid-sentence.</summary>
    private static IAnsiConsole Wide(IAnsiConsole console)
    {
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = 200;
        return console;
    }

    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException or FormatException
            or NotSupportedException) // an ONNX file using an op or type Fovea does not read
        {
            Fail(e);
            return Failed;
        }
        catch (Exception e)
        {
            Fail(e);
            Console.Error.WriteLine("fovea: this is a bug in Fovea; FOVEA_DEBUG=1 shows the stack trace.");
            return Failed;
        }
    }

    private static void Fail(Exception e)
    {
        Console.Error.WriteLine($"fovea: error: {OneLine(e.Message)}");
        if (Environment.GetEnvironmentVariable("FOVEA_DEBUG") == "1") Console.Error.WriteLine(e);
    }

    private static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static void WriteJson(JsonNode node) =>
        Console.Out.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}

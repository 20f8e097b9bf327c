using System.CommandLine;
using System.Text.Json.Nodes;
using Fovea.Onnx.Import;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea onnx-test DIR… [--rtol R] [--atol A] [--json]</c>: runs every ONNX backend-test folder
/// (model.onnx + test_data_set_N) under the given folders through Fovea's importer; exit code 0 only
/// when all pass.
/// </summary>
internal static class OnnxTestCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("folders") { Description = "Backend-test folders, or folders searched for them (e.g. /usr/share/libonnx-testdata/data/node).", Arity = ArgumentArity.OneOrMore };
        var rtol = new Option<double>("--rtol") { Description = "Relative tolerance of float outputs.", DefaultValueFactory = _ => 1e-3 };
        var atol = new Option<double>("--atol") { Description = "Absolute tolerance of float outputs.", DefaultValueFactory = _ => 1e-5 };
        var json = new Option<bool>("--json") { Description = "Print the results as a JSON array on stdout." };
        var command = new Command("onnx-test", "Run ONNX backend tests (model.onnx with test_data_set_N folders) with Fovea's ONNX importer.") { folders, rtol, atol, json };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var roots = parse.GetValue(folders)!;
            double r = parse.GetValue(rtol), a = parse.GetValue(atol);
            if (!(r >= 0) || !(a >= 0)) throw new ArgumentException($"--rtol and --atol must be non-negative. Received: {r} and {a}.");
            foreach (var root in roots.Where(root => !Directory.Exists(root))) throw new DirectoryNotFoundException($"Folder '{root}' does not exist.");
            var tests = OnnxBackendTest.Discover(roots);
            if (tests.Count == 0) throw new ArgumentException($"No backend-test folder (one holding model.onnx) under {string.Join(", ", roots)}.");

            var results = tests.Select(t => OnnxBackendTest.Run(t, r, a)).ToArray();
            int passed = results.Count(t => t.Passed);
            if (parse.GetValue(json))
                CommandRunner.WriteJson(new JsonArray([.. results.Select(t => (JsonNode)new JsonObject
                {
                    ["name"] = t.Name, ["directory"] = t.Directory, ["passed"] = t.Passed, ["max_abs_error"] = t.MaxAbsoluteError, ["failure"] = t.Failure,
                })]));
            else
                Print(results);
            CommandRunner.Human(parse.GetValue(json)).MarkupLine($"{passed} of {results.Length} passed" + (passed < results.Length ? $", [red]{results.Length - passed} failed[/]" : ""));
            return passed == results.Length ? CommandRunner.Ok : CommandRunner.Failed;
        }));
        return command;
    }

    /// <summary>A table on a terminal; one line per test in a file or pipe, easy to grep.</summary>
    private static void Print(IReadOnlyList<OnnxTestResult> results)
    {
        var console = AnsiConsole.Console;
        if (!console.Profile.Capabilities.Interactive)
        {
            foreach (var t in results)
                console.WriteLine($"{(t.Passed ? "PASS" : "FAIL")} {t.Name} max error {t.MaxAbsoluteError:g3}{(t.Failure is null ? "" : $": {t.Failure}")}");
            return;
        }
        var table = new Table().AddColumns("test", "result", "largest error", "why it failed");
        foreach (var t in results)
            table.AddRow(Markup.Escape(t.Name), t.Passed ? "[green]pass[/]" : "[red]fail[/]", $"{t.MaxAbsoluteError:g3}", Markup.Escape(t.Failure ?? ""));
        console.Write(table);
    }
}

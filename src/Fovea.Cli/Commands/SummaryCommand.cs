using System.CommandLine;
using System.Text.Json.Nodes;
using Fovea.Analysis;
using Fovea.Nn;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea summary NAME|FILE --input CxHxW</c>: Keras-style per-layer table with multiply-adds.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = $"A zoo model ({string.Join(", ", Zoo.Names)}) or a model file." };
        var input = new Option<string>("--input") { Description = "Image size as CxHxW.", DefaultValueFactory = _ => "1x28x28" };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON on stdout." };
        var command = new Command("summary", "Per layer: output shape, parameters and multiply-adds; and the totals.") { model, input, json };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var (c, h, w) = ParseInput(parse.GetValue(input)!);
            string name = parse.GetValue(model)!;
            var module = Zoo.Names.Contains(name) ? Zoo.Create(name, c, h, w, rng: new Rng(0)) : SavedModel.Load(name).Model;
            ModelSummary summary;
            try
            {
                summary = ModelSummary.Of(module, c, h, w);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{name} does not take {c}×{h}×{w} images: {e.Message}", e);
            }
            if (parse.GetValue(json))
            {
                CommandRunner.WriteJson(new JsonObject
                {
                    ["model"] = name,
                    ["input"] = new JsonArray(c, h, w),
                    ["layers"] = new JsonArray(summary.Layers.Select(l => (JsonNode?)new JsonObject
                    {
                        ["name"] = l.Name, ["layer"] = l.Layer, ["output_shape"] = new JsonArray(l.OutputShape.ToArray().Select(d => (JsonNode?)d).ToArray()),
                        ["params"] = l.Parameters, ["macs"] = l.MultiplyAdds,
                    }).ToArray()),
                    ["total_params"] = summary.TotalParameters,
                    ["total_macs"] = summary.TotalMultiplyAdds,
                });
                return CommandRunner.Ok;
            }
            var table = new Table().Title($"{Markup.Escape(name)} on {c}×{h}×{w} images")
                .AddColumns("name", "layer", "output shape", "params", "MACs");
            table.Columns[3].RightAligned();
            table.Columns[4].RightAligned();
            foreach (var l in summary.Layers)
                table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Layer), Markup.Escape(l.OutputShape.ToString()), $"{l.Parameters:N0}", $"{l.MultiplyAdds:N0}");
            table.AddRow("", "[bold]total[/]", "", $"[bold]{summary.TotalParameters:N0}[/]", $"[bold]{summary.TotalMultiplyAdds:N0}[/]");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Parameters: {summary.TotalParameters:N0} ({summary.TotalParameters * 4.0 / (1 << 20):F2} MB as float32); multiply-adds per image: {summary.TotalMultiplyAdds:N0}");
            return CommandRunner.Ok;
        }));
        return command;
    }

    /// <summary>"3x32x32" (or with ×) as (channels, height, width).</summary>
    public static (int C, int H, int W) ParseInput(string text)
    {
        var parts = text.Split(['x', 'X', '×']);
        if (parts.Length == 3 && int.TryParse(parts[0], out int c) && int.TryParse(parts[1], out int h) && int.TryParse(parts[2], out int w) && c > 0 && h > 0 && w > 0)
            return (c, h, w);
        throw new ArgumentException($"--input must be CxHxW with positive sizes, e.g. 1x28x28. Received: \"{text}\"");
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Fovea.Analysis;
using Fovea.Nn;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea analyze NAME|FILE --input CxHxW [--json]</c>: the cost model per layer, the twins of every convolution, and the savings in sentences.</summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = $"A zoo model ({string.Join(", ", Zoo.Names)}) or a model file." };
        var input = new Option<string>("--input") { Description = "Image size as CxHxW, e.g. 3x2048x2048.", DefaultValueFactory = _ => "1x28x28" };
        var json = new Option<bool>("--json") { Description = "Print the analysis as JSON on stdout." };
        var command = new Command("analyze", "Per layer: shape, parameters, weight bytes, multiply-adds, activation bytes, receptive field; each conv beside its locally connected and dense twins.")
        {
            model, input, json,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var (c, h, w) = SummaryCommand.ParseInput(parse.GetValue(input)!);
            string name = parse.GetValue(model)!;
            var costs = Zoo.Names.Contains(name) ? ZooCosts.Of(name, c, h, w) : CostModel.Of(SavedModel.Load(name).Model, c, h, w);
            var sentences = CostSentences.Of(costs);
            if (parse.GetValue(json)) CommandRunner.WriteJson(ToJson(name, costs, sentences));
            else Print(name, costs, sentences);
            return CommandRunner.Ok;
        }));
        return command;
    }

    private static void Print(string name, CostModel costs, IReadOnlyList<string> sentences)
    {
        var table = new Table().Title($"{Markup.Escape(name)} on {CostSentences.Shape(costs.Input)} images")
            .AddColumns("name", "layer", "output", "params", "weights", "MACs", "output bytes", "kept for backward", "receptive field", "LC twin", "dense twin");
        for (int i = 3; i < table.Columns.Count; i++) table.Columns[i].RightAligned();
        foreach (var l in costs.Layers)
        {
            var twins = l.Convolutions;
            table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Layer + (l.SizeMismatch is null ? "" : " *")), Markup.Escape(l.OutputShape.ToString()),
                Quantities.Count(l.Parameters), Quantities.Bytes(l.WeightBytes), Quantities.Count(l.Macs), Quantities.Bytes(l.OutputBytes),
                Quantities.Bytes(l.TrainingBytes), Markup.Escape(l.ReceptiveField?.ToString() ?? "whole input"),
                string.Join("\n", twins.Select(t => $"{Quantities.Count(t.LocallyConnectedParameters)} ({Quantities.Ratio(t.LocallyConnectedRatio)}×)")),
                string.Join("\n", twins.Select(t => $"{Quantities.Count(t.DenseParameters)} ({Quantities.Ratio(t.DenseRatio)}×)")));
        }
        var t = costs.Totals;
        table.AddRow("", "[bold]total[/]", "", $"[bold]{Quantities.Count(t.Parameters)}[/]", $"[bold]{Quantities.Bytes(t.WeightBytes)}[/]", $"[bold]{Quantities.Count(t.Macs)}[/]",
            $"[bold]{Quantities.Bytes(t.OutputBytes)}[/]", $"[bold]{Quantities.Bytes(t.TrainingBytes)}[/]", "", "", "");
        AnsiConsole.Write(table);
        if (!costs.TakesInput) AnsiConsole.MarkupLine("* built for another image size: costed as the same layer rebuilt for this one.");
        AnsiConsole.MarkupLine(Markup.Escape($"Parameters: {t.Parameters:N0} ({Quantities.Bytes(t.WeightBytes)}); multiply-adds per image: {t.Macs:N0}; " +
            $"inference holds at least {Quantities.Bytes(t.PeakInferenceBytes)} (one layer's input and output), training keeps {Quantities.Bytes(t.TrainingBytes)} per image for backward."));
        foreach (var sentence in sentences) AnsiConsole.WriteLine(sentence);
    }

    private static JsonObject ToJson(string name, CostModel costs, IReadOnlyList<string> sentences) => new()
    {
        ["model"] = name,
        ["input"] = Shape(costs.Input),
        ["takes_input"] = costs.TakesInput,
        ["layers"] = new JsonArray([.. costs.Layers.Select(l => (JsonNode)new JsonObject
        {
            ["name"] = l.Name, ["kind"] = l.Kind, ["layer"] = l.Layer,
            ["input_shape"] = Shape(l.InputShape), ["output_shape"] = Shape(l.OutputShape),
            ["params"] = l.Parameters, ["weight_bytes"] = l.WeightBytes, ["macs"] = l.Macs,
            ["output_bytes"] = l.OutputBytes, ["training_bytes"] = l.TrainingBytes, ["saved_for_backward"] = l.Saved.Rule,
            ["receptive_field"] = l.ReceptiveField is { } f ? new JsonObject { ["height"] = Axis(f.Height), ["width"] = Axis(f.Width) } : null,
            ["size_mismatch"] = l.SizeMismatch,
            ["convolutions"] = new JsonArray([.. l.Convolutions.Select(Twins)]),
        })]),
        ["totals"] = new JsonObject
        {
            ["params"] = costs.Totals.Parameters, ["weight_bytes"] = costs.Totals.WeightBytes, ["macs"] = costs.Totals.Macs,
            ["output_bytes"] = costs.Totals.OutputBytes, ["training_bytes"] = costs.Totals.TrainingBytes, ["peak_inference_bytes"] = costs.Totals.PeakInferenceBytes,
        },
        ["sentences"] = new JsonArray([.. sentences.Select(s => (JsonNode)JsonValue.Create(s))]),
    };

    private static JsonNode Twins(ConvTwins t) => new JsonObject
    {
        ["name"] = t.Name, ["params"] = t.Parameters, ["weight_bytes"] = Exact(t.WeightBytes), ["macs"] = t.Macs,
        ["window_inputs"] = t.WindowInputs, ["inputs_per_image"] = t.InputsPerImage,
        ["locally_connected"] = new JsonObject { ["params"] = Exact(t.LocallyConnectedParameters), ["weight_bytes"] = Exact(t.LocallyConnectedBytes), ["macs"] = Exact(t.LocallyConnectedMacs), ["params_ratio"] = t.LocallyConnectedRatio },
        ["dense"] = new JsonObject { ["params"] = Exact(t.DenseParameters), ["weight_bytes"] = Exact(t.DenseBytes), ["macs"] = Exact(t.DenseMacs), ["params_ratio"] = t.DenseRatio, ["macs_ratio"] = t.DenseMacsRatio },
    };

    private static JsonObject Axis(AxisField a) => new() { ["size"] = a.Size, ["jump"] = a.Jump, ["start"] = a.Start };

    /// <summary>An Int128 as an exact JSON number (doubles would round a dense twin's count).</summary>
    private static JsonNode Exact(Int128 value) => JsonNode.Parse(value.ToString(CultureInfo.InvariantCulture))!;

    private static JsonArray Shape(TensorShape shape) => new([.. shape.ToArray().Select(d => (JsonNode)d)]);
}

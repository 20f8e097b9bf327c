using System.CommandLine;
using System.Text.Json.Nodes;
using Fovea.Data;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea predict FILE --index I</c>: the top classes, with probabilities, for one test image.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A model file or checkpoint (.safetensors)." };
        var data = DataOptions.Create();
        var index = new Option<int>("--index") { Description = "Which test image.", DefaultValueFactory = _ => 0 };
        var top = new Option<int>("--top") { Description = "How many classes to show.", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var command = new Command("predict", "Classify one test image with a saved model.") { file, data, index, top, json };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            bool asJson = parse.GetValue(json);
            var console = CommandRunner.Human(asJson);
            var saved = SavedModel.Load(parse.GetValue(file)!);
            var (_, test) = DataOptions.Load(parse.GetValue(data), console);
            int i = parse.GetValue(index), k = Math.Clamp(parse.GetValue(top), 1, test.ClassCount);
            if (i < 0 || i >= test.Count) throw new ArgumentException($"--index {i} is outside the test set's 0–{test.Count - 1}.");

            var loader = DataLoader.Ordered(test.Slice(i, 1), 1, saved.Normalization, prefetch: false);
            using var batch = loader.Epoch(0).Single();
            float[] probabilities;
            using (Autograd.NoGrad())
            using (var logits = saved.Model.Forward(batch.Images))
            using (var p = F.Softmax(logits, -1))
                probabilities = p.ToArray();
            var ranked = Enumerable.Range(0, probabilities.Length).OrderByDescending(c => probabilities[c]).Take(k).ToArray();
            int label = test.Label(i);
            if (asJson)
            {
                CommandRunner.WriteJson(new JsonObject
                {
                    ["index"] = i,
                    ["label"] = label,
                    ["label_name"] = test.ClassNames[label],
                    ["top"] = new JsonArray(ranked.Select(c => (JsonNode?)new JsonObject { ["class"] = c, ["name"] = test.ClassNames[c], ["probability"] = probabilities[c] }).ToArray()),
                });
                return CommandRunner.Ok;
            }
            console.MarkupLine($"Test image {i}: actually [bold]{Markup.Escape(test.ClassNames[label])}[/]");
            var table = new Table().AddColumns("class", "probability");
            foreach (int c in ranked) table.AddRow(Markup.Escape(test.ClassNames[c]) + (c == label ? " ✓" : ""), $"{probabilities[c]:P2}");
            console.Write(table);
            return CommandRunner.Ok;
        }));
        return command;
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using Fovea.Data;
using Fovea.Training;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea eval FILE</c>: accuracy, loss, per-class accuracy and confusion matrix on the test set.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A model file or checkpoint (.safetensors)." };
        var data = DataOptions.Create();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var command = new Command("eval", "Evaluate a saved model on the test set.") { file, data, json };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            bool asJson = parse.GetValue(json);
            var console = CommandRunner.Human(asJson);
            var saved = SavedModel.Load(parse.GetValue(file)!);
            var (_, test) = DataOptions.Load(parse.GetValue(data), console);
            var result = Trainer.Evaluate(saved.Model, DataLoader.Ordered(test, 256, saved.Normalization));
            if (asJson)
            {
                CommandRunner.WriteJson(new JsonObject
                {
                    ["accuracy"] = result.Accuracy,
                    ["loss"] = result.Loss,
                    ["images"] = result.Count,
                    ["per_class_accuracy"] = new JsonObject(result.ClassNames.Select((name, i) => KeyValuePair.Create(name, (JsonNode?)result.PerClassAccuracy[i]))),
                    ["confusion_matrix"] = new JsonArray(result.Confusion.Select(row => (JsonNode?)new JsonArray(row.Select(v => (JsonNode?)v).ToArray())).ToArray()),
                    ["classes"] = new JsonArray(result.ClassNames.Select(n => (JsonNode?)n).ToArray()),
                });
                return CommandRunner.Ok;
            }
            console.MarkupLine($"[bold]Accuracy {result.Accuracy:P2}[/], loss {result.Loss:F4} on {result.Count} test images");
            var perClass = new Table().AddColumns("class", "accuracy");
            for (int i = 0; i < result.ClassNames.Count; i++) perClass.AddRow(Markup.Escape(result.ClassNames[i]), $"{result.PerClassAccuracy[i]:P1}");
            console.Write(perClass);
            var confusion = new Table().Title("confusion matrix (rows: actual, columns: predicted)").AddColumn("");
            for (int j = 0; j < result.ClassNames.Count; j++) confusion.AddColumn(new TableColumn($"{j}").RightAligned());
            for (int i = 0; i < result.ClassNames.Count; i++)
                confusion.AddRow([$"{i} {Markup.Escape(result.ClassNames[i])}", .. result.Confusion[i].Select(v => v.ToString())]);
            console.Write(confusion);
            return CommandRunner.Ok;
        }));
        return command;
    }
}

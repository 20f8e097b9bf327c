using System.CommandLine;
using System.Text.Json.Nodes;
using Fovea.Data;
using Fovea.Training;
using Fovea.Vision.Experiments;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea demo</c>, the main job: the three benefits of convolutions measured on Fashion-MNIST (the full
/// set when the Debian package is installed, else the bundled sample). Trains mlp, lc-small, cnn-small and
/// cnn-tiny with one recipe inside a stated time budget, prints the side-by-side table and writes a
/// report folder of PNG charts and Markdown.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var data = DataOptions.Create();
        var output = new Option<string>("--out") { Description = "Report folder (PNG charts and report.md).", DefaultValueFactory = _ => "fovea-demo-report" };
        var threads = new Option<int>("--threads") { Description = "Threads for the kernels (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print the table as JSON on stdout (progress goes to stderr)." };
        var command = new Command("demo", "Why convolutions: train a dense, a locally connected and two convolutional networks and compare cost, accuracy and behaviour under shifts.")
        {
            data, output, threads, json,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            bool asJson = parse.GetValue(json);
            var console = CommandRunner.Human(asJson);
            Parallelism.Threads = parse.GetValue(threads);
            var (train, test) = DataOptions.Load(parse.GetValue(data), console);
            bool full = train.Count >= 50_000;
            // Budgets sized for 2 cores: ≤ 10 minutes on the full set, ≤ 1 minute on the sample; training gets most of it.
            var (epochs, budget, total, shiftImages) = full ? (5, TimeSpan.FromMinutes(8), "10 minutes", 1000) : (6, TimeSpan.FromSeconds(35), "1 minute", 300);
            var stats = Normalization.Compute(train);
            var recipe = new TrainingRecipe { Epochs = epochs, Mean = [.. stats.Mean], Std = [.. stats.Std], Channels = train.Channels, Height = train.Height, Width = train.Width, Classes = train.ClassCount };
            var experiment = new ConvolutionBenefits(recipe, budget, shiftImages);
            console.MarkupLine($"[bold]Why convolutions[/]: training {string.Join(", ", ConvolutionBenefits.Models)} with one recipe " +
                Markup.Escape($"({recipe.Optimizer}, {recipe.Schedule} lr {recipe.LearningRate:G3}, batch {recipe.BatchSize}, up to {epochs} epochs each as its share of {budget.TotalSeconds:F0} s of training allows; the whole demo within about {total} on 2 cores)."));

            var outcomes = new List<ModelOutcome>();
            foreach (var name in ConvolutionBenefits.Models)
            {
                console.MarkupLine($"[bold]{Markup.Escape(name)}[/]");
                var progress = new TrainingProgress(console);
                ModelOutcome? outcome = null;
                progress.Run(() => outcome = experiment.RunOne(name, train, test, [progress]));
                outcomes.Add(outcome!);
            }

            string description = full ? "full Fashion-MNIST (60 000 training, 10 000 test images)" : $"the Fashion-MNIST sample bundled with Fovea ({train.Count} training, {test.Count} test images)";
            string report = BenefitsReport.Write(parse.GetValue(output)!, outcomes, test, recipe.Normalization, description, experiment.ShiftImages);
            var claims = BenefitsReport.Claims(outcomes);
            if (asJson)
            {
                CommandRunner.WriteJson(new JsonObject
                {
                    ["data"] = description,
                    ["models"] = new JsonArray([.. outcomes.Select(o => (JsonNode?)new JsonObject
                    {
                        ["model"] = o.Model, ["params"] = o.Parameters, ["weight_mb"] = o.WeightBytes / 1e6, ["macs"] = o.MultiplyAdds,
                        ["epochs"] = o.Epochs, ["train_seconds"] = o.TrainSeconds, ["test_accuracy"] = o.TestAccuracy,
                        ["shift2_accuracy"] = o.AccuracyAtShift(2), ["shift4_accuracy"] = o.AccuracyAtShift(4),
                        ["first_layer"] = o.FirstLayer, ["first_layer_shift_error"] = o.FirstLayerShiftError,
                    })]),
                    ["claims"] = new JsonArray([.. claims.Select(c => (JsonNode?)new JsonObject { ["holds"] = c.Holds, ["claim"] = c.Text })]),
                    ["report"] = Path.GetFullPath(report),
                });
                return CommandRunner.Ok;
            }
            var table = new Table().AddColumns("model", "params", "weights MB", "MACs/image", "epochs", "train s", "test acc", "shift 2 px", "shift 4 px", "first layer 1-px shift error");
            foreach (var o in outcomes)
                table.AddRow(o.Model, $"{o.Parameters:N0}", $"{o.WeightBytes / 1e6:F2}", $"{o.MultiplyAdds:N0}", $"{o.Epochs}", $"{o.TrainSeconds:F1}",
                    $"{o.TestAccuracy:P2}", $"{o.AccuracyAtShift(2):P2}", $"{o.AccuracyAtShift(4):P2}", Markup.Escape($"{o.FirstLayerShiftError:G3} ({o.FirstLayer})"));
            console.Write(table);
            foreach (var (holds, text) in claims) console.MarkupLine($"{(holds ? "[green]✓[/]" : "[red]✗[/]")} {Markup.Escape(text)}");
            console.MarkupLine($"Report: {Markup.Escape(Path.GetFullPath(report))}");
            return CommandRunner.Ok;
        }));
        return command;
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Fovea.Analysis;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Vision;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea equivariance NAME|FILE</c>: the equivariance probe per layer (shifts, quarter turns, flips) on
/// test images, and for a trained model file how its predictions and accuracy hold up on shifted test images.
/// </summary>
internal static class EquivarianceCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = $"A zoo model ({string.Join(", ", Zoo.Names)}; random weights) or a trained model file or checkpoint." };
        var data = DataOptions.Create();
        var shifts = new Option<int>("--shifts") { Description = "Largest shift in pixels: the probe shifts right by 1…N and diagonally by 1; the classifier is tested at 0…N in 8 directions.", DefaultValueFactory = _ => 4 };
        var limit = new Option<int>("--limit") { Description = "Test images for the classifier numbers (the first N).", DefaultValueFactory = _ => 500 };
        var probeImages = new Option<int>("--probe-images") { Description = "Test images for the per-layer probe.", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of a zoo model's random initialisation.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON on stdout." };
        var plot = new Option<string?>("--plot") { Description = "Write the error-per-layer chart to this PNG file." };
        var command = new Command("equivariance", "Measure per layer how far a model is from equivariance to shifts, rotations and flips, and how its accuracy holds up on shifted images.")
            { model, data, shifts, limit, probeImages, seed, json, plot };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            bool asJson = parse.GetValue(json);
            var console = CommandRunner.Human(asJson);
            string name = parse.GetValue(model)!;
            int maxShift = parse.GetValue(shifts), testLimit = parse.GetValue(limit), probeCount = parse.GetValue(probeImages);
            if (maxShift < 0 || maxShift > 64) throw new ArgumentException($"--shifts must be 0 to 64 pixels. Received: {maxShift}");
            if (testLimit < 1 || probeCount < 1) throw new ArgumentException($"--limit and --probe-images must be positive. Received: {testLimit} and {probeCount}");
            bool trained = !Zoo.Names.Contains(name);
            if (trained && !File.Exists(name)) throw new FileNotFoundException($"{name}: neither a zoo model ({string.Join(", ", Zoo.Names)}) nor a model file.");
            var (_, test) = DataOptions.Load(parse.GetValue(data), console);
            var (network, normalization) = trained ? Saved(name) : (Zoo.Create(name, test.Channels, test.Height, test.Width, test.ClassCount, new Rng(parse.GetValue(seed))),
                test.Channels == 3 ? Normalization.Cifar10 : Normalization.FashionMnist);

            var transforms = EquivarianceProbe.StandardTransforms(maxShift).Where(g => !g.NeedsSquare || test.Height == test.Width).ToList();
            using var images = ProbeImages(test, probeCount, normalization);
            EquivarianceReport report;
            try
            {
                report = EquivarianceProbe.Measure(network, images, transforms);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{name} on {test.Channels}×{test.Height}×{test.Width} images: {e.Message}", e);
            }
            var classifier = trained ? ShiftRobustness.Measure(network, test.Take(testLimit), normalization, maxShift) : null;
            string weights = trained ? "trained weights" : $"random initialisation, seed {parse.GetValue(seed)}";
            if (parse.GetValue(plot) is { } png)
                Plots.EquivarianceErrors(png, $"{Path.GetFileName(name)} ({weights}): relative equivariance error per layer", report);

            if (asJson) CommandRunner.WriteJson(Json(name, trained, weights, report, classifier));
            else Print(console, name, weights, report, classifier);
            if (parse.GetValue(plot) is { } written) console.MarkupLine($"[grey]Chart: {Markup.Escape(Path.GetFullPath(written))}[/]");
            return CommandRunner.Ok;
        }));
        return command;
    }

    private static (Module Model, Normalization Normalization) Saved(string path)
    {
        var saved = SavedModel.Load(path);
        return (saved.Model, saved.Normalization);
    }

    /// <summary>The first <paramref name="count"/> test images, normalised as the model expects.</summary>
    private static Tensor ProbeImages(ImageDataset test, int count, Normalization normalization)
    {
        var subset = test.Take(count);
        using var batch = DataLoader.Ordered(subset, subset.Count, normalization, prefetch: false).Epoch(0).First();
        return batch.Images.Clone();
    }

    private const string UntrainedNote = "The per-layer probe needs no training: these are the model's random initial weights. Accuracy on shifted images needs a trained model: run `fovea train` and pass the model file.";

    private static void Print(IAnsiConsole console, string name, string weights, EquivarianceReport report, ShiftRobustness? classifier)
    {
        var input = report.Input;
        console.MarkupLine($"[bold]{Markup.Escape(name)}[/] ({Markup.Escape(weights)}), probed with {input[0]} test images of {input[1]}×{input[2]}×{input[3]}");
        var table = new Table().Title("relative error ‖f(g(x)) − g′(f(x))‖ / ‖f(x)‖ over the border-free interior").AddColumns("layer", "type", "jump");
        foreach (var g in report.Transforms) table.AddColumn(new TableColumn(Markup.Escape(g.Name)).RightAligned());
        var footnotes = new List<string>();
        foreach (var layer in report.Layers)
        {
            var cells = report.ForLayer(layer.Index).Select(r => Cell(r, footnotes));
            string jump = layer.Comparison == EquivarianceComparison.Equivariance ? $"{layer.Jump.X}" : "dense";
            table.AddRow([Markup.Escape(layer.Name), Markup.Escape(layer.Layer), jump, .. cells]);
        }
        console.Write(table);
        console.MarkupLine($"[grey]✓ below {EquivarianceProbe.Tolerance:0e0} (float32 rounding), ✗ above; — no position is free of border effects. Layers marked dense have no spatial map: f(g(x)) is compared with f(x) (invariance).[/]");
        for (int i = 0; i < footnotes.Count; i++) console.MarkupLine($"[grey]({i + 1}) {Markup.Escape(footnotes[i])}[/]");
        foreach (var g in report.Transforms) console.MarkupLine(Markup.Escape(Summary(report, g)));
        if (classifier is null)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(UntrainedNote)}[/]");
            return;
        }
        var shifts = new Table().Title($"classifier on {classifier.Images} shifted test images").AddColumns("shift (pixels)", "accuracy", "prediction unchanged");
        foreach (var s in classifier.Shifts) shifts.AddRow($"{s.Shift}", $"{s.Accuracy:P1}", $"{s.Unchanged:P1}");
        console.Write(shifts);
    }

    /// <summary>"3.1e-08 ✓", "0.52 ✗ (1)": the error, the verdict and a footnote number for its notes.</summary>
    private static string Cell(LayerEquivariance r, List<string> footnotes)
    {
        if (r.RelativeError is not { } e) return "—";
        string mark = r.Holds == true ? "[green]✓[/]" : "[red]✗[/]";
        var marks = r.Notes.Where(n => r.Comparison == EquivarianceComparison.Equivariance).Select(note =>
        {
            int k = footnotes.IndexOf(note);
            if (k < 0)
            {
                footnotes.Add(note);
                k = footnotes.Count - 1;
            }
            return $"({k + 1})";
        });
        return $"{Error(e)} {mark}{string.Concat(marks.Select(m => " " + m))}";
    }

    private static string Error(double e) => e == 0 ? "0" : e < 1e-2 ? e.ToString("0.0e0", CultureInfo.InvariantCulture) : e.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>"shift (1, 0): equivariant through layer 1 (ReLU); not from layer 2 (MaxPool2d) on: error 0.52."</summary>
    private static string Summary(EquivarianceReport report, ImageTransform g)
    {
        var results = report.Results.Where(r => r.Transform == g && r.Comparison == EquivarianceComparison.Equivariance).ToList();
        var broken = results.FirstOrDefault(r => r.Holds == false);
        var held = results.TakeWhile(r => r.Holds != false).LastOrDefault(r => r.Holds == true);
        if (broken is null) return held is null ? $"{g.Name}: no layer could be measured." : $"{g.Name}: equivariant through every spatial layer (last: {held.Name}, {held.Layer}).";
        if (held is null) return $"{g.Name}: not equivariant from the first layer measured, {broken.Name} ({broken.Layer}): error {Error(broken.RelativeError!.Value)}.";
        return $"{g.Name}: equivariant through layer {held.Name} ({held.Layer}); not from layer {broken.Name} ({broken.Layer}) on: error {Error(broken.RelativeError!.Value)}.";
    }

    private static JsonObject Json(string name, bool trained, string weights, EquivarianceReport report, ShiftRobustness? classifier) => new()
    {
        ["model"] = name,
        ["weights"] = weights,
        ["trained"] = trained,
        ["input"] = new JsonArray(report.Input[1], report.Input[2], report.Input[3]),
        ["probe_images"] = report.Input[0],
        ["tolerance"] = EquivarianceProbe.Tolerance,
        ["transforms"] = new JsonArray([.. report.Transforms.Select(g => (JsonNode?)g.Name)]),
        ["layers"] = new JsonArray([.. report.Layers.Select(layer => (JsonNode?)new JsonObject
        {
            ["index"] = layer.Index,
            ["name"] = layer.Name,
            ["layer"] = layer.Layer,
            ["output_shape"] = new JsonArray([.. layer.OutputShape.ToArray().Skip(1).Select(d => (JsonNode?)d)]),
            ["comparison"] = layer.Comparison == EquivarianceComparison.Equivariance ? "equivariance" : "invariance",
            ["jump"] = layer.Comparison == EquivarianceComparison.Equivariance ? new JsonArray(layer.Jump.Y, layer.Jump.X) : null,
            ["receptive_field"] = layer.Comparison == EquivarianceComparison.Equivariance ? new JsonArray(layer.ReceptiveField.Height, layer.ReceptiveField.Width) : null,
            ["results"] = new JsonArray([.. report.ForLayer(layer.Index).Select(r => (JsonNode?)new JsonObject
            {
                ["transform"] = r.Transform.Name,
                ["feature_transform"] = r.FeatureTransform?.Name,
                ["relative_error"] = r.RelativeError is { } e && double.IsFinite(e) ? e : null,
                ["verdict"] = r.Verdict,
                ["interior_positions"] = r.InteriorPositions,
                ["positions"] = r.Positions,
                ["notes"] = new JsonArray([.. r.Notes.Select(n => (JsonNode?)n)]),
            })]),
        })]),
        ["classifier"] = classifier is null ? null : new JsonObject
        {
            ["images"] = classifier.Images,
            ["directions"] = new JsonArray([.. ShiftRobustness.Directions.Select(d => (JsonNode?)new JsonArray(d.Dx, d.Dy))]),
            ["shifts"] = new JsonArray([.. classifier.Shifts.Select(s => (JsonNode?)new JsonObject { ["shift"] = s.Shift, ["accuracy"] = s.Accuracy, ["unchanged"] = s.Unchanged })]),
        },
        ["classifier_note"] = classifier is null ? UntrainedNote : null,
    };
}

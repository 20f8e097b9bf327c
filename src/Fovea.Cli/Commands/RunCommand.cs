using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Fovea.Data;
using Fovea.Onnx.Import;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea run MODEL.onnx [--data DIR] [--index I] [--count K] [--normalize MEAN,STD|none] [--json]</c>:
/// classifies test images with any ONNX image classifier through Fovea's importer: predicted class, its
/// probability and the true label for each image.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("model") { Description = "An ONNX image classifier (.onnx) whose input is [N, C, H, W] or [N, C·H·W]." };
        var data = DataOptions.Create();
        var index = new Option<int>("--index") { Description = "The first test image.", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("--count") { Description = "How many test images, from --index on.", DefaultValueFactory = _ => 1 };
        var normalize = new Option<string?>("--normalize")
        {
            Description = "Inputs are (pixel/255 − mean) / std, as for predict. MEAN,STD (or per channel M1,M2,M3,S1,S2,S3), or 'none' for pixel/255. " +
                "An ONNX file does not record it; the default is what Fovea trains with (Fashion-MNIST statistics for one channel, CIFAR-10's for three), right for files from fovea export.",
        };
        var json = new Option<bool>("--json") { Description = "Print the predictions as a JSON array on stdout." };
        var command = new Command("run", "Classify test images with an ONNX model, run by Fovea's ONNX importer.") { file, data, index, count, normalize, json };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            bool asJson = parse.GetValue(json);
            var console = CommandRunner.Human(asJson);
            var model = OnnxModel.Load(parse.GetValue(file)!);
            var (_, test) = DataOptions.Load(parse.GetValue(data), console);
            int first = parse.GetValue(index), k = parse.GetValue(count);
            if (k < 1 || first < 0 || first + (long)k > test.Count)
                throw new ArgumentException($"--index {first} --count {k} is not a non-empty range of the test set's images 0–{test.Count - 1}.");
            var normalization = ParseNormalization(parse.GetValue(normalize), test.Channels);
            var (batchSize, imageShape) = InputLayout(model, test, k);

            var predictions = new List<(int Index, int Label, int Predicted, float Probability)>();
            using (Autograd.NoGrad())
                foreach (var batch in DataLoader.Ordered(test.Slice(first, k), batchSize, normalization, prefetch: false))
                    using (batch)
                    {
                        using var input = F.Reshape(batch.Images, [batch.Count, .. imageShape]);
                        using var output = model.Forward(input);
                        using var probabilities = Probabilities(output, batch.Count);
                        int classes = probabilities.Shape[1];
                        var p = probabilities.Span;
                        for (int i = 0; i < batch.Count; i++)
                        {
                            var row = p.Slice(i * classes, classes);
                            int best = 0;
                            for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
                            predictions.Add((first + batch.Indices[i], batch.Labels[i], best, row[best]));
                        }
                    }

            string Name(int c) => c < test.ClassNames.Count ? test.ClassNames[c] : $"class {c}";
            int correct = predictions.Count(p => p.Predicted == p.Label);
            if (asJson)
                CommandRunner.WriteJson(new JsonArray([.. predictions.Select(p => (JsonNode)new JsonObject
                {
                    ["index"] = p.Index, ["predicted"] = p.Predicted, ["predicted_name"] = Name(p.Predicted), ["probability"] = p.Probability,
                    ["label"] = p.Label, ["label_name"] = Name(p.Label),
                })]));
            else if (console.Profile.Capabilities.Interactive)
            {
                var table = new Table().AddColumns("image", "predicted", "probability", "actually");
                foreach (var p in predictions)
                    table.AddRow($"{p.Index}", Markup.Escape(Name(p.Predicted)) + (p.Predicted == p.Label ? " ✓" : ""), $"{p.Probability:P2}", Markup.Escape(Name(p.Label)));
                console.Write(table);
            }
            else
                foreach (var p in predictions)
                    console.WriteLine($"image {p.Index}: predicted {p.Predicted} {Name(p.Predicted)} ({p.Probability:P2}), actually {p.Label} {Name(p.Label)}");
            console.WriteLine($"{correct} of {predictions.Count} correct");
            return CommandRunner.Ok;
        }));
        return command;
    }

    /// <summary>The normalisation named by --normalize, or Fovea's training default for images of <paramref name="channels"/> channels.</summary>
    private static Normalization ParseNormalization(string? text, int channels)
    {
        Normalization normalization;
        if (text is null) normalization = channels == 3 ? Normalization.Cifar10 : Normalization.FashionMnist;
        else if (text == "none") normalization = Normalization.PixelsOnly;
        else
        {
            var values = text.Split(',').Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f : float.NaN).ToArray();
            if (values.Length % 2 != 0 || values.Any(float.IsNaN))
                throw new ArgumentException($"--normalize expects MEAN,STD (or means then standard deviations per channel) or 'none'. Received: {text}");
            normalization = new Normalization(values[..(values.Length / 2)], values[(values.Length / 2)..]);
        }
        normalization.CheckChannels(channels);
        return normalization;
    }

    /// <summary>
    /// How images are fed: per run, as many as the model's batch dimension allows (all <paramref name="count"/>
    /// when it is symbolic), each shaped [C, H, W] or flattened to [C·H·W] as the model's input declares.
    /// </summary>
    private static (int BatchSize, int[] ImageShape) InputLayout(OnnxModel model, ImageDataset test, int count)
    {
        if (model.InputNames.Count != 1)
            throw new ArgumentException($"fovea run feeds one image tensor; the model takes {model.InputNames.Count} inputs ({string.Join(", ", model.InputNames)}).");
        int[] image = [test.Channels, test.Height, test.Width];
        var dims = model.InputDims();
        if (dims is null) return (count, image);
        string declared = $"[{string.Join(", ", dims.Select(d => d?.ToString() ?? "N"))}]";
        int[] shape = dims.Count switch
        {
            4 => image,
            2 => [test.ImageSize],
            _ => throw new ArgumentException($"The model's input '{model.InputNames[0]}' is {declared}; fovea run feeds images as [N, C, H, W] or [N, C·H·W]."),
        };
        for (int axis = 1; axis < dims.Count; axis++)
            if (dims[axis] is long d && d != shape[axis - 1])
                throw new ArgumentException($"The model's input '{model.InputNames[0]}' is {declared}; the data's images are {test.Channels}×{test.Height}×{test.Width}.");
        int batch = dims[0] is long b ? (int)b : count;
        if (batch < 1 || count % batch != 0)
            throw new ArgumentException($"The model's input '{model.InputNames[0]}' is {declared}: its batch is fixed; use a --count that is a multiple of {dims[0]}.");
        return (batch, shape);
    }

    /// <summary>
    /// The output as [N, classes] probabilities: kept when each row already is a distribution (the model
    /// ends in a softmax), else the softmax of the logits.
    /// </summary>
    private static Tensor Probabilities(Tensor output, int images)
    {
        if (output.Length == 0 || output.Length % images != 0)
            throw new ArgumentException($"The model's output {output.Shape} does not hold one score per class for each of the {images} images.");
        using var scores = F.Reshape(output, images, output.Length / images);
        var s = scores.Span;
        int classes = scores.Shape[1];
        bool distributions = true;
        for (int i = 0; i < images && distributions; i++)
        {
            var row = s.Slice(i * classes, classes);
            float sum = 0;
            foreach (float v in row) sum += v;
            distributions = Math.Abs(sum - 1) < 1e-3f && !row.ContainsAnyExceptInRange(0f, 1f);
        }
        return distributions ? scores.Clone() : F.Softmax(scores, -1);
    }
}

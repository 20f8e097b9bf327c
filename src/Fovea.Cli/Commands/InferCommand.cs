using System.CommandLine;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Fovea.Analysis;
using Fovea.Nn;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea infer NAME|FILE --input CxHxW [--tile N] [--seed S] [--compare] [--json]</c>: runs a model's
/// convolutional part on a random image of any size, whole or in tiles, and reports time and memory.
/// </summary>
internal static class InferCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = $"A zoo model ({string.Join(", ", Zoo.Names)}) or a model file." };
        var input = new Option<string>("--input") { Description = "Image size as CxHxW, e.g. 3x2048x2048.", DefaultValueFactory = _ => "3x2048x2048" };
        var tile = new Option<int?>("--tile") { Description = "Tile size in input pixels (a multiple of the stack's cumulative stride); whole image without it." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights (zoo models) and of the random image.", DefaultValueFactory = _ => 0 };
        var compare = new Option<bool>("--compare") { Description = "Also run on the whole image and print the largest absolute difference." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var command = new Command("infer", "Runs the convolutional part of a model on one random image, whole or by tiles whose overlap comes from the receptive field.")
        {
            model, input, tile, seed, compare, json,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var (c, h, w) = SummaryCommand.ParseInput(parse.GetValue(input)!);
            string name = parse.GetValue(model)!;
            int? tileSize = parse.GetValue(tile);
            var rng = new Rng(parse.GetValue(seed));
            // The convolutional part does not depend on the image size the zoo builds the head for.
            var full = Zoo.Names.Contains(name) ? Zoo.Create(name, c, rng: rng) : SavedModel.Load(name).Model;
            var features = ConvolutionalPart.Of(full);
            if (features.Layers.Count == 0)
                throw new ArgumentException($"{name} has no convolutional part: its first layer ({ConvolutionalPart.FirstNonLocal(full)?.Layer}) fixes the image size or reads every pixel.");
            using var image = Tensor.Normal(new TensorShape(1, c, h, w), 0f, 1f, rng);

            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            using var output = tileSize is int t ? TiledInference.Run(features, image, t) : TiledInference.RunWhole(features, image);
            double seconds = clock.Elapsed.TotalSeconds;
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            long peakWorkingSet = Process.GetCurrentProcess().PeakWorkingSet64;

            float? difference = null;
            if (parse.GetValue(compare))
            {
                using var reference = TiledInference.RunWhole(features, image);
                difference = MaxAbsDifference(output, reference);
            }
            var result = new JsonObject
            {
                ["model"] = name, ["input"] = new JsonArray(c, h, w), ["layers"] = features.Layers.Count, ["tile"] = tileSize,
                ["output_shape"] = new JsonArray([.. output.Shape.ToArray().Select(d => (JsonNode)d)]),
                ["seconds"] = Math.Round(seconds, 3), ["peak_working_set_bytes"] = peakWorkingSet, ["allocated_bytes"] = allocated,
                ["max_abs_diff"] = difference,
            };
            if (parse.GetValue(json))
            {
                CommandRunner.WriteJson(result);
                return CommandRunner.Ok;
            }
            AnsiConsole.WriteLine($"{name}: convolutional part ({features.Layers.Count} layers) on a {c}×{h}×{w} image, {(tileSize is null ? "whole" : $"in {tileSize}×{tileSize} tiles")}: output {output.Shape}");
            AnsiConsole.WriteLine($"time {seconds:F2} s, peak working set {Quantities.Bytes(peakWorkingSet)}, managed bytes allocated during the run {Quantities.Bytes(allocated)}");
            if (difference is float d) AnsiConsole.WriteLine($"largest absolute difference from the whole-image run: {d:G3}");
            return CommandRunner.Ok;
        }));
        return command;
    }

    private static float MaxAbsDifference(Tensor a, Tensor b)
    {
        var difference = new float[a.Length];
        TensorPrimitives.Subtract(a.Span, b.Span, difference);
        return Math.Abs(TensorPrimitives.MaxMagnitude(difference));
    }
}

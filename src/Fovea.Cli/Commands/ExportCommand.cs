using System.CommandLine;
using Fovea.Onnx;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea export FILE --onnx OUT.onnx [--input CxHxW] [--opset 13|17] [--fold-bn]</c>: the model as an ONNX graph.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A model file or checkpoint." };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write.", Required = true };
        var input = new Option<string>("--input") { Description = "Image size as CxHxW (the batch dimension stays dynamic).", DefaultValueFactory = _ => "1x28x28" };
        var opset = new Option<int>("--opset") { Description = $"ONNX opset, {OnnxExporter.MinOpset} to {OnnxExporter.MaxOpset}.", DefaultValueFactory = _ => 13 };
        var foldBn = new Option<bool>("--fold-bn") { Description = "Fold each batch norm into the convolution before it." };
        var command = new Command("export", "Write a trained model as an ONNX graph that any ONNX runtime can run.") { file, onnx, input, opset, foldBn };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var saved = SavedModel.Load(parse.GetValue(file)!);
            var (c, h, w) = SummaryCommand.ParseInput(parse.GetValue(input)!);
            string path = parse.GetValue(onnx)!;
            OnnxExporter.Export(saved.Model, c, h, w, path, parse.GetValue(opset), parse.GetValue(foldBn));
            AnsiConsole.MarkupLine($"Wrote {Markup.Escape(path)} (opset {parse.GetValue(opset)}, input [[N, {c}, {h}, {w}]]).");
            return CommandRunner.Ok;
        }));
        return command;
    }
}

using System.CommandLine;
using Fovea.Data;
using Fovea.Training;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea demo</c>, the main job: trains cnn-small on Fashion-MNIST (the full set when the Debian
/// package is installed, else the bundled sample) with the default recipe and reports the result.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var command = new Command("demo", "Train cnn-small on Fashion-MNIST and report test accuracy.") { json };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            bool asJson = parse.GetValue(json);
            var console = CommandRunner.Human(asJson);
            var (train, test) = DataOptions.Load(null, console);
            var stats = Normalization.Compute(train);
            var recipe = new TrainingRecipe { Model = "cnn-small", Mean = [.. stats.Mean], Std = [.. stats.Std] }.Validate();
            var result = TrainCommand.Train(recipe, train, test, Path.Combine(Path.GetTempPath(), "fovea-demo-cnn-small.safetensors"), null, null, console);
            if (asJson) CommandRunner.WriteJson(result);
            return CommandRunner.Ok;
        }));
        return command;
    }
}

using System.Text.Json.Nodes;
using Fovea.Nn;
using Fovea.Serialization;
using Fovea.Tests.Cli;
using Fovea.Tests.Support;
using SkiaSharp;

namespace Fovea.Tests.Analysis;

/// <summary><c>fovea equivariance</c> run as a user runs it, on the bundled Fashion-MNIST sample.</summary>
public class EquivarianceCommandTests
{
    [Fact]
    public void AZooNameProbesItsRandomInitAndSaysTheClassifierNeedsATrainedModel()
    {
        using var folder = new TempFolder();
        string png = folder.File("errors.png");
        var (exit, stdout, stderr) = FoveaProcess.Run(folder.Path, "equivariance", "cnn-tiny", "--data", FoveaProcess.SampleData, "--shifts", "2", "--json", "--plot", png);
        Assert.True(exit == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.False(json["trained"]!.GetValue<bool>());
        Assert.Null(json["classifier"]);
        Assert.Contains("trained model", json["classifier_note"]!.GetValue<string>());
        Assert.Equal(["shift (1, 0)", "shift (2, 0)", "shift (1, 1)", "rotate 90°", "rotate 180°", "flip left-right", "flip up-down"],
            json["transforms"]!.AsArray().Select(t => t!.GetValue<string>()));
        var conv1 = json["layers"]![0]!;
        Assert.Equal("equivariance", conv1["comparison"]!.GetValue<string>());
        Assert.True(conv1["results"]![0]!["relative_error"]!.GetValue<double>() < 1e-5);
        Assert.Equal("not equivariant", conv1["results"]![3]!["verdict"]!.GetValue<string>());
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((1200, 620), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public void AModelFileAlsoGetsTheClassifierUnderShifts()
    {
        using var folder = new TempFolder();
        string file = folder.File("cnn-tiny.safetensors");
        ModelFile.Save(file, Zoo.Create("cnn-tiny", rng: new Rng(1)));
        var (exit, stdout, stderr) = FoveaProcess.Run(folder.Path, "equivariance", file, "--data", FoveaProcess.SampleData, "--shifts", "2", "--limit", "40");
        Assert.True(exit == 0, stderr);
        Assert.Contains("relative error", stdout);
        Assert.Contains("classifier on 40 shifted test images", stdout);
        Assert.Contains("shift (2, 0): equivariant through layer 4 (ReLU)", stdout);
        Assert.Contains("rotate 90°: not equivariant", stdout);
    }
}

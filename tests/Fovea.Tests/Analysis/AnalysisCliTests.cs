using System.Text.Json.Nodes;
using Fovea.Tests.Cli;

namespace Fovea.Tests.Analysis;

/// <summary><c>fovea analyze</c> and <c>fovea infer</c> as a user runs them.</summary>
public class AnalysisCliTests
{
    [Fact]
    public void AnalyzeOnAMegapixelImageStatesTheDenseFirstLayerAndFlagsTheHead()
    {
        var (exit, stdout, stderr) = FoveaProcess.Run(Path.GetTempPath(), "analyze", "cnn-small", "--input", "3x2048x2048", "--json");
        Assert.True(exit == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.False(json["takes_input"]!.GetValue<bool>());
        var dense = json["layers"]![0]!["convolutions"]![0]!["dense"]!;
        Assert.Equal("1688849994481664", dense["params"]!.ToJsonString());   // 3·2048²·32·2048² + 32·2048²
        Assert.NotNull(json["layers"]![7]!["size_mismatch"]);
        Assert.Contains(json["sentences"]!.AsArray(), s => s!.GetValue<string>().Contains("would need 1.7e15 weights (6.8 PB)"));

        var (_, table, _) = FoveaProcess.Run(Path.GetTempPath(), "analyze", "cnn-small", "--input", "1x28x28");
        Assert.Contains("784× fewer weights than its locally connected twin", table);
    }

    [Fact]
    public void InferByTilesMatchesTheWholeImage()
    {
        var (exit, stdout, stderr) = FoveaProcess.Run(Path.GetTempPath(), "infer", "resnet8", "--input", "3x97x61", "--tile", "32", "--compare", "--json");
        Assert.True(exit == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal("[1,64,25,16]", json["output_shape"]!.ToJsonString());
        Assert.True(json["max_abs_diff"]!.GetValue<float>() <= 1e-5f);

        var (failed, _, error) = FoveaProcess.Run(Path.GetTempPath(), "infer", "mlp", "--input", "1x28x28");
        Assert.Equal(1, failed);
        Assert.Contains("no convolutional part", error);
    }
}

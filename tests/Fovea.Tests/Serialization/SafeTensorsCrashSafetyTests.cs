using Fovea.Serialization;
using Fovea.Tests.Support;

namespace Fovea.Tests.Serialization;

/// <summary>A save that fails midway must leave the previous file intact and no temporary file behind.</summary>
public class SafeTensorsCrashSafetyTests
{
    [Fact]
    public void FailedSaveKeepsTheOldFileAndLeavesNoTemporary()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        using var original = Tensor.FromArray([1, 2, 3], 3);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = original });

        // Name order puts the disposed tensor after a large good one, so the failure comes after
        // the header and many bytes of data have gone to the temporary file.
        using var good = Tensor.Ones(100_000);
        var disposed = Tensor.Ones(10);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = good, ["z"] = disposed }));

        AssertOnlyFile(folder, path);
        TensorAssert.Equal(original, SafeTensors.Load(path).ToTensor("w"));
    }

    [Fact]
    public void FailedConversionKeepsTheOldFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        using var original = Tensor.FromArray([1, 2, 3], 3);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = original });

        using var counter = Tensor.Scalar(0.5f);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = original, ["steps"] = counter }, dtypeOf: n => n == "steps" ? DType.I64 : DType.F32));

        AssertOnlyFile(folder, path);
        Assert.Equal(["w"], SafeTensors.Load(path).Names);
    }

    [Fact]
    public void SuccessfulSaveReplacesTheFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        using var first = Tensor.FromArray([1, 2, 3], 3);
        using var second = Tensor.FromArray([4, 5], 2);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = first });
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["v"] = second });

        AssertOnlyFile(folder, path);
        var file = SafeTensors.Load(path);
        Assert.Equal(["v"], file.Names);
        TensorAssert.Equal(second, file.ToTensor("v"));
    }

    private static void AssertOnlyFile(TempFolder folder, string path) => Assert.Equal([path], Directory.GetFiles(folder.Path));
}

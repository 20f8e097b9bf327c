using Fovea.Onnx.Import;

namespace Fovea.Tests.Onnx.Conformance;

/// <summary>
/// One test per in-scope ONNX backend test of libonnx-testdata (see <see cref="ConformanceScope"/>); the
/// display name carries the folder, so <c>--filter "DisplayName~test_conv"</c> runs a family.
/// </summary>
public class OnnxConformanceTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in ConformanceScope.IsAvailable ? ConformanceScope.Tests() : [])
            data.Add(Path.GetRelativePath(ConformanceScope.Root, dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes(string test)
    {
        var result = OnnxBackendTest.Run(Path.Combine(ConformanceScope.Root, test));
        Assert.True(result.Passed, result.Failure);
    }
}

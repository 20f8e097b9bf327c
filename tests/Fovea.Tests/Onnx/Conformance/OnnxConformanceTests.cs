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
        if (ConformanceScope.KnownFailures.TryGetValue(test, out string? reason))
            Assert.False(result.Passed, $"{test} passes now: remove it from ConformanceScope.KnownFailures and the README ({reason})");
        else
            Assert.True(result.Passed, result.Failure);
    }

    /// <summary>The acceptance bar: at least 98 % of the in-scope tests pass (the known failures are the rest).</summary>
    [Fact]
    public void AtLeast98PercentOfTheInScopeTestsPass()
    {
        Assert.True(ConformanceScope.IsAvailable, $"{ConformanceScope.Root} is missing: apt-get install libonnx-testdata (.ci/run does)");
        var tests = ConformanceScope.Tests();
        int passed = tests.Count(t => OnnxBackendTest.Run(t).Passed);
        Assert.True(tests.Count >= 250, $"only {tests.Count} in-scope tests found under {ConformanceScope.Root}");
        Assert.True(passed >= 0.98 * tests.Count, $"{passed} of {tests.Count} in-scope conformance tests pass (< 98 %)");
    }
}

namespace Fovea.Onnx.Import;

/// <summary>The outcome of one ONNX backend test: pass or fail, the largest error, and why it failed.</summary>
public sealed record OnnxTestResult(string Name, string Directory, bool Passed, double MaxAbsoluteError, string? Failure);

/// <summary>
/// Runs ONNX backend-test folders (<c>model.onnx</c> + <c>test_data_set_N/input_K.pb</c>,
/// <c>output_K.pb</c>) as ONNX Runtime's onnx_test_runner does: every data set, inputs fed in the order
/// of the graph's inputs, every output compared within <c>atol + rtol·|expected|</c> (integers exactly).
/// </summary>
public static class OnnxBackendTest
{
    /// <summary>Every folder under <paramref name="roots"/> (themselves included) that holds a model.onnx, sorted.</summary>
    public static IReadOnlyList<string> Discover(IEnumerable<string> roots) =>
        roots.SelectMany(root => File.Exists(Path.Combine(root, "model.onnx"))
                ? [root]
                : Directory.Exists(root) ? Directory.EnumerateFiles(root, "model.onnx", SearchOption.AllDirectories).Select(f => Path.GetDirectoryName(f)!) : [])
            .Distinct().Order(StringComparer.Ordinal).ToArray();

    public static OnnxTestResult Run(string directory, double rtol = 1e-3, double atol = 1e-5)
    {
        string name = Path.GetFileName(directory.TrimEnd(Path.DirectorySeparatorChar));
        double worst = 0;
        try
        {
            var model = OnnxModel.Load(Path.Combine(directory, "model.onnx"));
            var sets = Directory.GetDirectories(directory, "test_data_set_*").Order(StringComparer.Ordinal).ToArray();
            if (sets.Length == 0) return new(name, directory, false, 0, "no test_data_set_N folder");
            using var noGrad = Autograd.NoGrad();
            foreach (string set in sets)
            {
                var inputs = ReadValues(set, "input");
                if (inputs.Count != model.InputNames.Count)
                    return new(name, directory, false, 0, $"{Path.GetFileName(set)} has {inputs.Count} inputs, the model takes {model.InputNames.Count}");
                var fed = model.InputNames.Select((n, i) => (n, inputs[i])).ToDictionary(p => p.n, p => p.Item2);
                var outputs = model.Run(fed);
                var expected = ReadValues(set, "output");
                for (int o = 0; o < expected.Count && o < model.OutputNames.Count; o++)
                {
                    var actual = outputs[model.OutputNames[o]];
                    string? problem = Compare(actual, expected[o], rtol, atol, ref worst);
                    if (problem is not null) return new(name, directory, false, worst, $"{Path.GetFileName(set)} output {o} ('{model.OutputNames[o]}'): {problem}");
                }
            }
            return new(name, directory, true, worst, null);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or IOException)
        {
            return new(name, directory, false, worst, e.Message);
        }
    }

    /// <summary>The <c>prefix_K.pb</c> tensors of a data set, in K order.</summary>
    private static List<OnnxValue> ReadValues(string set, string prefix) =>
        Enumerable.Range(0, int.MaxValue)
            .Select(k => Path.Combine(set, $"{prefix}_{k}.pb"))
            .TakeWhile(File.Exists)
            .Select(path =>
            {
                try
                {
                    return OnnxModelReader.ReadTensor(File.ReadAllBytes(path)).Value;
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidDataException($"{path}: {e.Message}", e);
                }
            })
            .ToList();

    private static string? Compare(OnnxValue actual, OnnxValue expected, double rtol, double atol, ref double worst)
    {
        if (!actual.Dims.SequenceEqual(expected.Dims) || actual.IsFloat != expected.IsFloat)
            return $"expected {expected}, computed {actual}";
        if (!actual.IsFloat)
        {
            var a = actual.Integers!;
            var e = expected.Integers!;
            for (int i = 0; i < a.Length; i++)
                if (a[i] != e[i]) return $"element {i}: expected {e[i]}, computed {a[i]}";
            return null;
        }
        var x = actual.Floats!.Span;
        var y = expected.Floats!.Span;
        string? first = null;
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i]) && float.IsNaN(y[i]) || x[i] == y[i]) continue;
            double error = Math.Abs((double)x[i] - y[i]);
            if (double.IsNaN(error)) error = double.PositiveInfinity;
            worst = Math.Max(worst, error);
            if (error > atol + rtol * Math.Abs(y[i])) first ??= $"element {i}: expected {y[i]}, computed {x[i]}";
        }
        return first is null ? null : $"{first} (largest error {worst:g3})";
    }
}

using Fovea.Onnx.Import;

namespace Fovea.Tests.Onnx.Conformance;

/// <summary>
/// Which ONNX backend tests the importer answers for: those of libonnx-testdata's node/, pytorch-converted/,
/// pytorch-operator/ and simple/ folders whose every node is one of the ops the import issue lists and
/// whose graph inputs and outputs are float32, or integers and booleans (shapes, indices, masks). The
/// rule reads each model, so it does not depend on how the folders are named.
/// </summary>
public static class ConformanceScope
{
    public const string Root = "/usr/share/libonnx-testdata/data";

    public static readonly string[] Folders = ["node", "pytorch-converted", "pytorch-operator", "simple"];

    /// <summary>The ops of the import issue, and the glue exporters emit before a Reshape.</summary>
    public static readonly HashSet<string> Ops =
    [
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
        "InstanceNormalization", "LRN", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish",
        "Tanh", "Clip", "Softmax", "LogSoftmax", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Concat", "Flatten", "Reshape",
        "Transpose", "Squeeze", "Unsqueeze", "Pad", "Dropout", "Identity", "Constant", "Shape", "Gather", "Cast",
    ];

    /// <summary>
    /// In-scope tests Fovea fails, with the reason (the README lists them too). Each is still run and must
    /// still fail, so the list cannot go stale.
    /// </summary>
    public static readonly Dictionary<string, string> KnownFailures = new()
    {
        ["node/test_training_dropout"] = RandomDropout,
        ["node/test_training_dropout_default"] = RandomDropout,
        ["node/test_training_dropout_default_mask"] = RandomDropout,
        ["node/test_training_dropout_mask"] = RandomDropout,
    };

    private const string RandomDropout =
        "Dropout in training mode with ratio > 0: the expected output comes from numpy's random generator, which no other runtime reproduces (ONNX Runtime excludes these tests too)";

    public static bool IsAvailable => Directory.Exists(Root);

    /// <summary>The in-scope test folders, sorted.</summary>
    public static IReadOnlyList<string> Tests() =>
        OnnxBackendTest.Discover(Folders.Select(f => Path.Combine(Root, f))).Where(InScope).ToArray();

    private static bool InScope(string directory)
    {
        OnnxModelProto model;
        try
        {
            model = OnnxModelReader.Read(File.ReadAllBytes(Path.Combine(directory, "model.onnx")));
        }
        catch (NotSupportedException)
        {
            return false; // tensors of types Fovea does not hold (double, float16, strings)
        }
        var graph = model.Graph;
        var initializers = graph.Initializers.Select(i => i.Name).ToHashSet();
        return graph.Nodes.All(n => n.Domain.Length == 0 && Ops.Contains(n.OpType))
            && graph.Inputs.Where(i => !initializers.Contains(i.Name)).Concat(graph.Outputs).All(v => OnnxDataTypes.IsSupported(v.Type));
    }
}

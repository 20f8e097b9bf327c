using System.Reflection;

namespace Fovea.Onnx.Import;

/// <summary>The op factories of this assembly, by ONNX op type.</summary>
internal static class OnnxOpRegistry
{
    /// <summary>The opsets of the default domain the importer reads: 7 to 21, and the older ones where an op's old form differs only in attributes (which the factories reject when they do not know them) — PyTorch's older exporter wrote opset 6, and some backend tests declare opset 1.</summary>
    public const int MinOpset = 1, MaxOpset = 21;

    private static readonly Dictionary<string, Func<OnnxNodeContext, OnnxKernel>> Factories = Discover();

    public static IReadOnlyCollection<string> OpTypes => Factories.Keys;

    public static bool IsSupported(string opType) => Factories.ContainsKey(opType);

    /// <summary>Builds the kernel of <paramref name="node"/>; fails naming op, node and opset when an op or attribute is not supported.</summary>
    public static OnnxKernel Create(OnnxNodeContext node)
    {
        if (node.Node.Domain.Length > 0 || !Factories.TryGetValue(node.Node.OpType, out var factory))
            throw node.Unsupported("this op is not supported" + (node.Node.Domain.Length > 0 ? $" (domain '{node.Node.Domain}')" : ""));
        var kernel = factory(node);
        node.CheckAllAttributesRead();
        return kernel;
    }

    private static Dictionary<string, Func<OnnxNodeContext, OnnxKernel>> Discover()
    {
        var factories = new Dictionary<string, Func<OnnxNodeContext, OnnxKernel>>();
        foreach (var type in typeof(OnnxOpRegistry).Assembly.GetTypes())
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
                if (method.GetCustomAttribute<OnnxOpAttribute>() is { } op)
                {
                    var factory = method.CreateDelegate<Func<OnnxNodeContext, OnnxKernel>>();
                    foreach (string opType in op.OpTypes)
                        if (!factories.TryAdd(opType, factory)) throw new InvalidOperationException($"two factories for ONNX op {opType}");
                }
        return factories;
    }
}

using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Pads the last two dimensions with zeros; (left, right, top, bottom) or one int.</summary>
public sealed class ZeroPad2d : ConstantPad2d
{
    public ZeroPad2d(int padding) : base(padding, 0f) { }
    public ZeroPad2d(int[] padding) : base(padding, 0f) { }

    public override string ToString() => $"ZeroPad2d({TensorShape.Format(Padding)})";

    public override JsonObject ToSpec() => new() { ["type"] = nameof(ZeroPad2d), ["padding"] = SpecPairs.WriteInts(Padding) };

    public static new ZeroPad2d FromSpec(JsonObject spec, Rng rng) => new(SpecPairs.ReadInts(spec, "padding", 4, [0, 0, 0, 0]));
}

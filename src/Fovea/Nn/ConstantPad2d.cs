using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>
/// Pads the last two dimensions with a constant: padding is (left, right, top, bottom) as in PyTorch,
/// or one int for all four; negative amounts crop.
/// </summary>
public class ConstantPad2d : Module
{
    /// <summary>(left, right, top, bottom).</summary>
    public int[] Padding { get; }
    public float Value { get; }

    public ConstantPad2d(int padding, float value) : this([padding, padding, padding, padding], value) { }

    public ConstantPad2d(int[] padding, float value)
    {
        if (padding.Length != 4) throw new ArgumentException($"{GetType().Name}: padding is (left, right, top, bottom). Received {TensorShape.Format(padding)}");
        Padding = (int[])padding.Clone();
        Value = value;
    }

    public override Tensor Forward(Tensor input) => F.Pad(input, Padding, Value);

    public override string ToString() => $"ConstantPad2d({TensorShape.Format(Padding)}, value={Value.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    public override JsonObject ToSpec() => new() { ["type"] = nameof(ConstantPad2d), ["padding"] = SpecPairs.WriteInts(Padding), ["value"] = Value };

    public static ConstantPad2d FromSpec(JsonObject spec, Rng rng) =>
        new(SpecPairs.ReadInts(spec, "padding", 4, [0, 0, 0, 0]), ModuleSpec.Float(spec, "value", 0f));
}

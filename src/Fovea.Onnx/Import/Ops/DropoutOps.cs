namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Dropout: at inference (and with ratio 0) the input itself passes on; in training mode a seeded Fovea
/// <see cref="Rng"/> draws the mask, so runs are reproducible per loaded model but cannot match the
/// masks of other runtimes.
/// </summary>
internal static class DropoutOps
{
    /// <summary>Seed of the mask generator when the node gives none.</summary>
    private const long DefaultSeed = 0;

    /// <summary>
    /// Opset ≤ 6 says whether it runs in training with is_test (default 0: training); opsets 7 to 11 only
    /// ever run at inference, with the ratio as an attribute; from 12 ratio and training_mode are optional
    /// inputs. The mask output is bool from opset 10, of the input's type before.
    /// </summary>
    [OnnxOp("Dropout")]
    public static OnnxKernel Dropout(OnnxNodeContext node)
    {
        bool legacyTraining = node.Opset <= 6 && node.Int("is_test", 0) == 0;
        float ratioAttribute = node.Opset <= 11 ? node.Float("ratio", 0.5f) : 0.5f;
        var rng = new Rng((ulong)(node.Opset >= 12 ? node.Int("seed", DefaultSeed) : DefaultSeed));
        bool wantsMask = node.Node.Outputs.Count > 1 && node.Node.Outputs[1].Length > 0;
        bool boolMask = node.Opset >= 10;
        return inputs =>
        {
            var x = inputs[0]!.FloatData("input");
            float ratio = node.Opset >= 12 && inputs.ElementAtOrDefault(1) is { } r ? Scalar(r, "ratio") : ratioAttribute;
            bool training = node.Opset >= 12 ? inputs.ElementAtOrDefault(2) is { } t && t.IntegerData("training_mode")[0] != 0 : legacyTraining;
            if (!(ratio >= 0f && ratio <= 1f)) throw new ArgumentException($"ratio must be in [0, 1], received {ratio}");
            if (!training || ratio == 0f) return wantsMask ? [inputs[0]!, Mask(x, _ => true, boolMask)] : [inputs[0]!];

            // Survivors are scaled by 1/(1 − ratio) so the expected output equals the input.
            var keep = new bool[x.Length];
            for (int i = 0; i < keep.Length; i++) keep[i] = rng.NextFloat() >= ratio;
            float scale = ratio == 1f ? 0f : 1f / (1f - ratio);
            var factors = Tensor.Empty(x.Shape);
            var f = factors.Span;
            for (int i = 0; i < keep.Length; i++) f[i] = keep[i] ? scale : 0f;
            var y = OnnxValue.Float(Temporaries.Release(F.Mul(x, factors), [x], factors));
            return wantsMask ? [y, Mask(x, i => keep[i], boolMask)] : [y];
        };
    }

    private static float Scalar(OnnxValue value, string name)
    {
        var data = value.FloatData(name);
        if (data.Length != 1) throw new ArgumentException($"{name} must be a single value, received {value}");
        return data.Span[0];
    }

    private static OnnxValue Mask(Tensor x, Func<int, bool> kept, bool asBool)
    {
        if (asBool) return OnnxValue.Integer(OnnxDataType.Bool, Enumerable.Range(0, x.Length).Select(i => kept(i) ? 1L : 0L).ToArray(), x.Shape.ToArray());
        var mask = Tensor.Empty(x.Shape);
        var m = mask.Span;
        for (int i = 0; i < m.Length; i++) m[i] = kept(i) ? 1f : 0f;
        return OnnxValue.Float(mask);
    }
}

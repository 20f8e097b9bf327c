namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// BatchNormalization, InstanceNormalization and LRN over [N, C, …]. The first two run on F.BatchNorm (and
/// broadcasting F ops), so imported graphs stay trainable; LRN has its own inference kernel.
/// </summary>
internal static class NormalizationOps
{
    /// <summary>
    /// Y = (X − mean)/√(var + ε)·scale + B per channel. At inference mean and var are the running statistics
    /// (buffers of the model). In training mode (opset 14+ training_mode=1; before that, as ONNX Runtime: when
    /// more than Y is asked for and is_test is not set) the batch's statistics normalise, and the outputs
    /// running_mean/var = input·momentum + batch·(1 − momentum), with the population variance (opset ≤ 13
    /// adds saved_mean/saved_var: the batch's own).
    /// </summary>
    [OnnxOp("BatchNormalization")]
    public static OnnxKernel BatchNormalization(OnnxNodeContext node)
    {
        float epsilon = node.Float("epsilon", 1e-5f);
        float momentum = node.Float("momentum", 0.9f);
        // Opset 1–5 bookkeeping for in-place updates, which a graph of values has no use for.
        node.Ignore("consumed_inputs");
        if (node.Opset < 9 && node.Int("spatial", 1) != 1) throw node.Unsupported("spatial=0 (statistics per activation, not per channel) is not supported");
        // is_test (opset 6 only) can only veto training; ONNX Runtime decides it by the outputs asked for until opset 14.
        bool isTest = node.Opset < 7 && node.Int("is_test", 0) != 0;
        bool moreOutputs = node.Node.Outputs.Skip(1).Any(o => o.Length > 0);
        bool training = node.Opset >= 14 ? node.Int("training_mode", 0) != 0 : moreOutputs && !isTest;
        if (!training && moreOutputs) throw node.Invalid("running statistics outputs are only computed in training mode");
        int outputs = node.Node.Outputs.Count;
        return inputs =>
        {
            var x = inputs[0]!.FloatData("X");
            var scale = inputs[1]!.FloatData("scale");
            var bias = inputs[2]!.FloatData("B");
            var runningMean = inputs[3]!.FloatData("input_mean");
            var runningVar = inputs[4]!.FloatData("input_var");
            if (!training) return [OnnxValue.Float(F.BatchNorm(x, runningMean, runningVar, scale, bias, training: false, eps: epsilon))];

            var y = F.BatchNorm(x, null, null, scale, bias, training: true, eps: epsilon);
            var (batchMean, batchVar) = ChannelMoments.Of(x);
            var results = new[]
            {
                OnnxValue.Float(y), Blend(runningMean, batchMean, momentum, "input_mean"), Blend(runningVar, batchVar, momentum, "input_var"),
                OnnxValue.Float(Tensor.FromArray(batchMean, batchMean.Length)), OnnxValue.Float(Tensor.FromArray(batchVar, batchVar.Length)),
            };
            return results[..Math.Min(outputs, results.Length)];
        };
    }

    /// <summary>
    /// Y = (X − mean)/√(var + ε)·scale + B with mean and population var of each (sample, channel) plane:
    /// batch normalisation of the N·C planes seen as the channels of one sample, then the per-channel affine.
    /// </summary>
    [OnnxOp("InstanceNormalization")]
    public static OnnxKernel InstanceNormalization(OnnxNodeContext node)
    {
        float epsilon = node.Float("epsilon", 1e-5f);
        return inputs =>
        {
            var x = inputs[0]!.FloatData("input");
            var scale = inputs[1]!.FloatData("scale");
            var bias = inputs[2]!.FloatData("B");
            if (x.Rank < 2) throw new ArgumentException($"expected input [N, C, …], received {x.Shape}");
            int n = x.Shape[0], c = x.Shape[1];
            // One sample: its instances are the batch's channels, and F.BatchNorm does it all in one pass.
            // Without running statistics F.BatchNorm normalises by the input's own; training: false skips its
            // more-than-one-value check, as ONNX allows single-element planes (they normalise to 0).
            if (n == 1) return [OnnxValue.Float(F.BatchNorm(x, null, null, scale, bias, training: false, eps: epsilon))];
            if (scale.Shape != new TensorShape(c) || bias.Shape != new TensorShape(c))
                throw new ArgumentException($"scale and B must be [{c}], received {scale.Shape} and {bias.Shape}");
            bool keep = Autograd.NeedsGrad(x, scale, bias);
            var planes = F.Reshape(x, 1, n * c, -1);
            var normalized = F.BatchNorm(planes, null, null, null, null, training: false, eps: epsilon);
            var restored = F.Reshape(normalized, x.Shape.ToArray());
            int[] perChannel = [c, .. Enumerable.Repeat(1, x.Rank - 2)];
            var scaleColumn = F.Reshape(scale, perChannel);
            var biasColumn = F.Reshape(bias, perChannel);
            var scaled = F.Mul(restored, scaleColumn);
            var y = F.Add(scaled, biasColumn);
            // Without a tape nothing else holds the intermediates: give their memory back now.
            if (!keep)
                foreach (var t in new[] { planes, normalized, restored, scaleColumn, biasColumn, scaled }) t.Dispose();
            return [OnnxValue.Float(y)];
        };
    }

    [OnnxOp("LRN")]
    public static OnnxKernel Lrn(OnnxNodeContext node)
    {
        long size = node.Int("size", 0);
        if (size < 1 || size > int.MaxValue) throw node.Invalid($"size must be a positive number of channels, received {size}");
        float alpha = node.Float("alpha", 1e-4f), beta = node.Float("beta", 0.75f), bias = node.Float("bias", 1f);
        return inputs =>
        {
            var x = inputs[0]!.FloatData("X");
            if (x.Rank < 2) throw new ArgumentException($"expected input [N, C, …], received {x.Shape}");
            var y = Tensor.Empty(x.Shape);
            LrnKernel.Forward(x.Span, y.Span, x.Shape[0], x.Shape[1], x.Shape.Product(2, x.Rank), (int)size, alpha, beta, bias);
            return [OnnxValue.Float(y)];
        };
    }

    /// <summary>input·momentum + batch·(1 − momentum): ONNX's running-statistics update (momentum weighs the old value, unlike PyTorch).</summary>
    private static OnnxValue Blend(Tensor running, float[] batch, float momentum, string name)
    {
        if (running.Shape != new TensorShape(batch.Length))
            throw new ArgumentException($"{name} must be [{batch.Length}], received {running.Shape}");
        var updated = new float[batch.Length];
        var old = running.Span;
        for (int c = 0; c < updated.Length; c++) updated[c] = old[c] * momentum + batch[c] * (1 - momentum);
        return OnnxValue.Float(Tensor.FromArray(updated, updated.Length));
    }
}

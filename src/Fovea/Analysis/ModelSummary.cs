using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>One row of a <see cref="ModelSummary"/>: a layer, the shape it outputs for one image, its parameters and multiply-adds.</summary>
public sealed record LayerSummary(string Name, string Layer, TensorShape OutputShape, long Parameters, long MultiplyAdds);

/// <summary>
/// Keras's <c>summary()</c> for a Fovea model: per layer the output shape, the parameters and the
/// multiply-adds per image (weights × the positions they are applied at: convolution and dense
/// layers; pooling, normalisation and activations are counted as free), and the totals. Shapes come
/// from running one zero image through the layers, in evaluation mode and without recording.
/// </summary>
public sealed class ModelSummary
{
    private ModelSummary(TensorShape input, IReadOnlyList<LayerSummary> layers, long parameters)
    {
        Input = input;
        Layers = layers;
        TotalParameters = parameters;
        TotalMultiplyAdds = layers.Sum(l => l.MultiplyAdds);
    }

    /// <summary>One image: [1, C, H, W].</summary>
    public TensorShape Input { get; }
    public IReadOnlyList<LayerSummary> Layers { get; }
    public long TotalParameters { get; }
    public long TotalMultiplyAdds { get; }

    /// <summary>Summarises <paramref name="model"/> for images of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>.</summary>
    public static ModelSummary Of(Module model, int channels, int height, int width)
    {
        var input = new TensorShape(1, channels, height, width);
        var rows = new List<LayerSummary>();
        bool training = model.IsTraining;
        model.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            using var x = Tensor.Zeros(input);
            Walk(model, "", x, rows).Dispose();
        }
        finally
        {
            model.Train(training);
        }
        return new ModelSummary(input, rows, model.ParameterCount());
    }

    /// <summary>Runs <paramref name="module"/> on <paramref name="x"/>, adding a row per leaf (a Sequential is opened up); returns the output.</summary>
    private static Tensor Walk(Module module, string name, Tensor x, List<LayerSummary> rows)
    {
        if (module is Sequential sequential)
        {
            var h = x;
            foreach (var (childName, child) in sequential.NamedChildren())
            {
                var next = Walk(child, Join(name, childName), h, rows);
                if (!ReferenceEquals(h, x) && !ReferenceEquals(h, next)) h.Dispose();
                h = next;
            }
            return ReferenceEquals(h, x) ? x.Clone() : h;
        }
        var y = module.Forward(x);
        rows.Add(new LayerSummary(name, module.ToString() ?? module.GetType().Name, y.Shape, module.ParameterCount(), MultiplyAdds(module, y.Shape)));
        return ReferenceEquals(y, x) ? x.Clone() : y;
    }

    /// <summary>Multiply-adds per image: each weight of a convolution or dense layer is applied once per output position.</summary>
    public static long MultiplyAdds(Module module, TensorShape output) => module switch
    {
        Conv2d conv => conv.Weight.Length * (long)output.Product(2, output.Rank),
        LocallyConnected2d lc => lc.Weight.Length,
        Linear linear => linear.Weight.Length,
        BasicBlock block => Convolutions(block).Sum(conv => (long)conv.Weight.Length) * output.Product(2, output.Rank),
        _ => 0,
    };

    // A residual block's convolutions all produce its output's spatial size (the first one strides).
    private static IEnumerable<Conv2d> Convolutions(Module module) => module.NamedModules().Select(m => m.Module).OfType<Conv2d>();

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}

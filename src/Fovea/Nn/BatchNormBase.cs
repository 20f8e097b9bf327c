using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>
/// What BatchNorm1d and BatchNorm2d share (PyTorch's _BatchNorm): weight = 1 and bias = 0 per channel,
/// and the buffers running_mean = 0, running_var = 1 and num_batches_tracked, which counts training
/// steps. A null momentum gives PyTorch's cumulative average: the factor of step t is 1/t.
/// </summary>
public abstract class BatchNormBase : Module
{
    public int NumFeatures { get; }
    public float Eps { get; }
    public float? Momentum { get; }
    public bool Affine { get; }
    public bool TrackRunningStats { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }

    /// <summary>Training steps taken with running statistics, a scalar (a long in PyTorch's state dicts).</summary>
    public Tensor? NumBatchesTracked { get; }

    protected BatchNormBase(int numFeatures, float eps, float? momentum, bool affine, bool trackRunningStats)
    {
        if (numFeatures <= 0) throw new ArgumentException($"{GetType().Name}: num_features must be positive. Received {numFeatures}");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        Weight = RegisterParameter("weight", affine ? new Parameter(new TensorShape(numFeatures)) : null);
        Weight?.Span.Fill(1f);
        Bias = RegisterParameter("bias", affine ? new Parameter(new TensorShape(numFeatures)) : null);
        if (!trackRunningStats) return;
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Scalar(0f));
    }

    /// <summary>The input layout this layer accepts, for error messages, e.g. <c>[N, 16, H, W]</c>.</summary>
    protected abstract string ExpectedLayout { get; }

    protected abstract bool AcceptsRank(int rank);

    public override Tensor Forward(Tensor input) => Forward(input, relu: false);

    /// <summary>This layer followed by a ReLU, as one fused op (<see cref="Sequential"/> and <see cref="BasicBlock"/> use it).</summary>
    internal Tensor ForwardRelu(Tensor input) => Forward(input, relu: true);

    private Tensor Forward(Tensor input, bool relu)
    {
        if (!AcceptsRank(input.Rank) || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"{this}: expected input {ExpectedLayout}, received {input.Shape}");
        bool counts = IsTraining && NumBatchesTracked is not null;
        float steps = counts ? NumBatchesTracked!.Span[0] + 1f : 0f;
        float factor = counts ? Momentum ?? 1f / steps : 0f;
        var y = relu
            ? F.BatchNormRelu(input, RunningMean, RunningVar, Weight, Bias, IsTraining, factor, Eps)
            : F.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, IsTraining, factor, Eps);
        // Counted only once the step succeeded, so a rejected batch leaves the state as it was.
        if (counts) NumBatchesTracked!.Span[0] = steps;
        return y;
    }

    public override string ToString() => $"{GetType().Name}({NumFeatures})";

    public override JsonObject ToSpec() => new()
    {
        ["type"] = GetType().Name,
        ["num_features"] = NumFeatures,
        ["eps"] = Eps,
        ["momentum"] = Momentum,
        ["affine"] = Affine,
        ["track_running_stats"] = TrackRunningStats,
    };

    /// <summary>The constructor arguments in a spec; an explicit "momentum": null means the cumulative average.</summary>
    protected static (int NumFeatures, float Eps, float? Momentum, bool Affine, bool TrackRunningStats) ReadSpec(JsonObject spec) => (
        ModuleSpec.Int(spec, "num_features"),
        ModuleSpec.Float(spec, "eps", 1e-5f),
        spec.TryGetPropertyValue("momentum", out var m) && m is null ? null : ModuleSpec.Float(spec, "momentum", 0.1f),
        ModuleSpec.Bool(spec, "affine", true),
        ModuleSpec.Bool(spec, "track_running_stats", true));
}

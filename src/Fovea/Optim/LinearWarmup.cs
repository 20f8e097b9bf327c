using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>
/// A linear warm-up in front of another schedule: for the first <see cref="WarmupSteps"/> steps the
/// rate climbs linearly from <see cref="StartFactor"/> × the inner schedule's step-0 rate to that
/// rate; from then on it is the inner schedule's, started afresh (inner step 0 at step WarmupSteps).
/// PyTorch writes the same as <c>SequentialLR([LinearLR(start_factor, total_iters=N), inner],
/// milestones=[N])</c>. Step only the wrapper; the inner schedule just supplies its rates.
/// </summary>
public sealed class LinearWarmup : LrScheduler
{
    public LinearWarmup(LrScheduler inner, int warmupSteps, double startFactor = 1.0 / 3) : base(inner?.Optimizer ?? throw new ArgumentNullException(nameof(inner)))
    {
        if (warmupSteps <= 0) throw new ArgumentException($"LinearWarmup: warmupSteps must be positive. Received: {warmupSteps}");
        if (!(startFactor > 0 && startFactor <= 1)) throw new ArgumentException($"LinearWarmup: startFactor must lie in (0, 1]. Received: {startFactor}");
        Inner = inner;
        WarmupSteps = warmupSteps;
        StartFactor = startFactor;
        Start();
    }

    public LrScheduler Inner { get; }
    public int WarmupSteps { get; }
    public double StartFactor { get; }

    protected override double Compute(int step) => step >= WarmupSteps
        ? Inner.LearningRateAt(step - WarmupSteps)
        : Inner.LearningRateAt(0) * (StartFactor + (1 - StartFactor) * step / WarmupSteps);

    protected override void WriteConfiguration(Dictionary<string, string> state)
    {
        state["warmup_steps"] = Format(WarmupSteps);
        state["start_factor"] = Format(StartFactor);
        foreach (var (key, value) in Inner.Configuration()) state["inner." + key] = value;
    }
}

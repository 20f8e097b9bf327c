using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>
/// The one-cycle policy (Smith &amp; Topin), stepped once per batch: the rate climbs from
/// maxLr / divFactor to <see cref="MaxLearningRate"/> over the first pctStart of
/// <see cref="TotalSteps"/>, then anneals to maxLr / (divFactor·finalDivFactor) at step
/// totalSteps − 1. PyTorch's OneCycleLR formulas (two phases) without momentum cycling, i.e.
/// <c>cycle_momentum=False</c>. It replaces the optimizer's learning rate as soon as it is made, and
/// stepping past <see cref="TotalSteps"/> throws, as in PyTorch.
/// </summary>
public sealed class OneCycleLR : LrScheduler
{
    private readonly double _warmupEnd; // the step at which the rate peaks (fractional, as in PyTorch)

    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos,
        double divFactor = 25, double finalDivFactor = 1e4) : base(optimizer)
    {
        if (!(maxLr >= 0) || double.IsPositiveInfinity(maxLr)) throw new ArgumentException($"OneCycleLR: maxLr must be a finite non-negative number. Received: {maxLr}");
        if (totalSteps <= 0) throw new ArgumentException($"OneCycleLR: totalSteps must be positive. Received: {totalSteps}");
        if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentException($"OneCycleLR: pctStart must lie in [0, 1]. Received: {pctStart}");
        if (!Enum.IsDefined(annealStrategy)) throw new ArgumentException($"OneCycleLR: unknown anneal strategy {annealStrategy}.");
        if (!(divFactor > 0) || !(finalDivFactor > 0)) throw new ArgumentException($"OneCycleLR: divFactor and finalDivFactor must be positive. Received: {divFactor}, {finalDivFactor}");
        MaxLearningRate = maxLr;
        TotalSteps = totalSteps;
        PctStart = pctStart;
        AnnealStrategy = annealStrategy;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
        InitialLearningRate = maxLr / divFactor;
        MinLearningRate = InitialLearningRate / finalDivFactor;
        _warmupEnd = pctStart * totalSteps - 1;
        Start();
    }

    public double MaxLearningRate { get; }
    public int TotalSteps { get; }
    public double PctStart { get; }
    public AnnealStrategy AnnealStrategy { get; }
    public double DivFactor { get; }
    public double FinalDivFactor { get; }

    /// <summary>The rate at step 0: maxLr / divFactor.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The rate at the last step: maxLr / (divFactor·finalDivFactor).</summary>
    public double MinLearningRate { get; }

    protected override double Compute(int step)
    {
        // PyTorch allows one step past the end (its last lr is then computed at totalSteps) and no more.
        if (step > TotalSteps) throw new InvalidOperationException($"OneCycleLR: step {step} is past totalSteps {TotalSteps}; make the schedule with more steps.");
        return step <= _warmupEnd
            ? Anneal(InitialLearningRate, MaxLearningRate, Fraction(step, 0, _warmupEnd))
            : Anneal(MaxLearningRate, MinLearningRate, Fraction(step, _warmupEnd, TotalSteps - 1));
    }

    // A phase of zero length (where PyTorch would divide by zero) counts as already over.
    private static double Fraction(int step, double start, double end) => end == start ? 1 : (step - start) / (end - start);

    private double Anneal(double from, double to, double fraction) => AnnealStrategy == AnnealStrategy.Cos
        ? to + (from - to) / 2.0 * (Math.Cos(Math.PI * fraction) + 1)
        : (to - from) * fraction + from;

    protected override void WriteConfiguration(Dictionary<string, string> state)
    {
        state["max_lr"] = Format(MaxLearningRate);
        state["total_steps"] = Format(TotalSteps);
        state["pct_start"] = Format(PctStart);
        state["anneal_strategy"] = AnnealStrategy == AnnealStrategy.Cos ? "cos" : "linear";
        state["div_factor"] = Format(DivFactor);
        state["final_div_factor"] = Format(FinalDivFactor);
    }
}

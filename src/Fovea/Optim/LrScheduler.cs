using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>
/// Sets an optimizer's learning rate by a schedule, as torch.optim.lr_scheduler does: making the
/// schedule applies step 0's rate, and each <see cref="Step"/> advances one step and applies that
/// step's rate. Call <see cref="Step"/> after <see cref="Optimizer.Step"/>, once per epoch or once
/// per batch: a schedule counts whatever you step it by (<see cref="OneCycleLR"/> is meant per batch).
/// Rates are closed forms of the step count, so a schedule resumes exactly from its state dict and
/// <see cref="LearningRateAt"/> can be plotted before training.
/// </summary>
public abstract class LrScheduler
{
    protected LrScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
    }

    public Optimizer Optimizer { get; }

    /// <summary>
    /// The optimizer's learning rate when the schedule was made: the rate <see cref="StepLR"/> and
    /// <see cref="CosineAnnealingLR"/> scale (PyTorch's <c>initial_lr</c>); <see cref="OneCycleLR"/> ignores it.
    /// </summary>
    public double BaseLearningRate { get; }

    /// <summary>Steps taken since the schedule was made (PyTorch's <c>last_epoch</c>).</summary>
    public int LastStep { get; private set; }

    /// <summary>The rate applied last (PyTorch's <c>get_last_lr()</c>).</summary>
    public double LastLearningRate { get; private set; }

    /// <summary>The schedule's name in messages and state dicts.</summary>
    protected string Name => GetType().Name;

    /// <summary>Advances one step and sets the optimizer's learning rate to that step's.</summary>
    public void Step() => GoTo(LastStep + 1);

    /// <summary>The rate at <paramref name="step"/> (0 = as made); reads and changes nothing.</summary>
    public double LearningRateAt(int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"{Name}: step must be non-negative. Received: {step}");
        return Compute(step);
    }

    protected abstract double Compute(int step);

    /// <summary>Applies step 0's rate. Each schedule calls it last in its constructor, once its arguments are set.</summary>
    protected void Start() => GoTo(0);

    private void GoTo(int step)
    {
        double rate = LearningRateAt(step); // may throw (past the end of a OneCycleLR); then nothing changes
        Optimizer.LearningRate = rate;
        LastStep = step;
        LastLearningRate = rate;
    }

    /// <summary>Writes the schedule's arguments under PyTorch's names.</summary>
    protected abstract void WriteConfiguration(Dictionary<string, string> state);

    /// <summary>Everything a state must agree on to be loaded here: the type and the arguments.</summary>
    internal Dictionary<string, string> Configuration()
    {
        var configuration = new Dictionary<string, string> { ["type"] = Name };
        WriteConfiguration(configuration);
        return configuration;
    }

    /// <summary>The schedule's type, arguments and <c>last_epoch</c>, as text (fits safetensors metadata).</summary>
    public Dictionary<string, string> StateDict()
    {
        var state = Configuration();
        state["last_epoch"] = Format(LastStep);
        return state;
    }

    /// <summary>
    /// Continues from <paramref name="state"/>: moves to its step and applies that step's rate. The
    /// state must come from the same kind of schedule with the same arguments; anything else throws an
    /// <see cref="ArgumentException"/> naming the mismatch.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, string> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckSameConfiguration(Configuration(), state, Name);
        long step = RequireLong(state, "last_epoch", Name);
        if (step > int.MaxValue) throw new ArgumentException($"{Name}.LoadStateDict: last_epoch {step} is out of range.");
        GoTo((int)step);
    }
}

using Fovea.Nn;
using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>
/// Updates <see cref="Parameter"/>s in place from their gradients, as torch.optim does. Per-parameter
/// state (momentum, moment estimates) is created on a parameter's first step and kept in pooled
/// tensors; a step rents its scratch from <see cref="TensorPool"/>, so steady-state training allocates
/// nothing here.
/// </summary>
public abstract class Optimizer
{
    private readonly Parameter[] _parameters;
    private readonly string[] _stateNames;
    private readonly Tensor[]?[] _state; // per parameter, one tensor per state name; null until its first step
    private readonly long[] _steps;
    private readonly int _largestParameter;
    private double _learningRate;

    /// <param name="parameters">The parameters to update (each once).</param>
    /// <param name="learningRate">The initial learning rate (schedules change it later).</param>
    /// <param name="stateNames">
    /// The per-parameter state tensors <see cref="Update"/> receives, in this order, under PyTorch's
    /// names (they name the entries of <see cref="StateDict"/>).
    /// </param>
    protected Optimizer(IEnumerable<Parameter> parameters, double learningRate, string[] stateNames)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0) throw new ArgumentException($"{Name}: the parameter list is empty.");
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_parameters[i] is null) throw new ArgumentException($"{Name}: parameter {i} is null.");
            // A parameter listed twice would be stepped twice per Step().
            if (!seen.Add(_parameters[i])) throw new ArgumentException($"{Name}: parameter {i} ({_parameters[i].Shape}) appears more than once.");
        }
        LearningRate = learningRate;
        _stateNames = stateNames;
        _state = new Tensor[]?[_parameters.Length];
        _steps = new long[_parameters.Length];
        _largestParameter = _parameters.Max(p => p.Length);
    }

    /// <summary>Throws unless a hyperparameter is a finite number ≥ 0.</summary>
    protected void RequireNonNegative(string what, double value)
    {
        if (!(value >= 0) || double.IsPositiveInfinity(value)) throw new ArgumentException($"{Name}: {what} must be a finite non-negative number. Received: {value}");
    }

    /// <summary>The optimizer's name in messages and state dicts.</summary>
    protected string Name => GetType().Name;

    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The step size; learning-rate schedules set it before each step.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            RequireNonNegative("the learning rate", value);
            _learningRate = value;
        }
    }

    /// <summary>
    /// Zeroes every parameter's gradient, keeping the buffers (so the next backward pass allocates
    /// nothing). A parameter that had a gradient is therefore still stepped, with a zero gradient, as
    /// in PyTorch 1.x with <c>set_to_none=False</c>.
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    /// <summary>One update of every parameter that has a gradient; parameters whose Grad is null are skipped.</summary>
    public void Step()
    {
        float[] scratch = TensorPool.Rent(ScratchVectors * _largestParameter);
        try
        {
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i];
                if (p.Grad is not { } grad) continue;
                if (grad.Shape != p.Shape) throw new InvalidOperationException($"{Name}.Step: parameter {i} has shape {p.Shape} but its gradient {grad.Shape}.");
                var state = _state[i] ??= NewState(p.Shape);
                _steps[i]++;
                Update(p.Span, grad.Span, state, _steps[i], scratch.AsSpan(0, ScratchVectors * p.Length));
            }
        }
        finally
        {
            TensorPool.Return(scratch);
        }
    }

    /// <summary>How many parameter-sized scratch vectors <see cref="Update"/> needs.</summary>
    protected abstract int ScratchVectors { get; }

    /// <summary>Updates one parameter in place.</summary>
    /// <param name="param">The parameter's values.</param>
    /// <param name="grad">Its gradient (not to be modified: it belongs to the caller).</param>
    /// <param name="state">Its state tensors in the order of the constructor's state names, zero-filled before its first step.</param>
    /// <param name="step">How many steps this parameter has taken, this one included (1 on its first).</param>
    /// <param name="scratch"><see cref="ScratchVectors"/> × param.Length floats of unspecified content.</param>
    protected abstract void Update(Span<float> param, ReadOnlySpan<float> grad, Tensor[] state, long step, Span<float> scratch);

    /// <summary>Writes the hyperparameters other than the learning rate, under PyTorch's names.</summary>
    protected abstract void WriteHyperparameters(Dictionary<string, string> metadata);

    /// <summary>
    /// A snapshot for resuming: copies of the state tensors (the caller owns them) and the
    /// hyperparameters as text. See <see cref="OptimizerState"/> for the names.
    /// </summary>
    public OptimizerState StateDict()
    {
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_state[i] is not { } state) continue;
            // A rank-0 float32 tensor, as in PyTorch; exact up to 2^24 steps.
            tensors[$"state.{i}.step"] = Tensor.FromArray([(float)_steps[i]]);
            for (int k = 0; k < _stateNames.Length; k++) tensors[$"state.{i}.{_stateNames[k]}"] = state[k].Clone();
        }
        var metadata = Configuration();
        metadata["lr"] = Format(LearningRate);
        return new OptimizerState(tensors, metadata);
    }

    /// <summary>
    /// Continues from <paramref name="state"/>: restores the learning rate and every parameter's state.
    /// The state must come from the same optimizer type with the same hyperparameters and parameter
    /// shapes; anything else throws an <see cref="ArgumentException"/> naming the mismatch, before
    /// anything is changed. The tensors are copied, not kept.
    /// </summary>
    public void LoadStateDict(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckSameConfiguration(Configuration(), state.Metadata, Name);
        double learningRate = RequireDouble(state.Metadata, "lr", Name);
        var steps = ReadSteps(state.Tensors);
        LearningRate = learningRate;
        for (int i = 0; i < _parameters.Length; i++)
        {
            _steps[i] = steps[i];
            if (steps[i] == 0)
            {
                _state[i] = null;
                continue;
            }
            var own = _state[i] ??= NewState(_parameters[i].Shape);
            for (int k = 0; k < _stateNames.Length; k++) own[k].CopyFrom(state.Tensors[$"state.{i}.{_stateNames[k]}"]);
        }
    }

    /// <summary>Each parameter's step count from the state tensors (0 where it has no state), after checking every entry.</summary>
    private long[] ReadSteps(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var steps = new long[_parameters.Length];
        int expectedEntries = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (!tensors.TryGetValue($"state.{i}.step", out var step)) continue;
            float count = step.Length == 1 ? step.Span[0] : -1;
            if (!(count >= 1) || count != MathF.Floor(count))
                throw new ArgumentException($"{Name}.LoadStateDict: 'state.{i}.step' must be a scalar holding a positive whole number. Received: {step}");
            steps[i] = (long)count;
            foreach (var name in _stateNames)
            {
                var key = $"state.{i}.{name}";
                if (!tensors.TryGetValue(key, out var t)) throw new ArgumentException($"{Name}.LoadStateDict: the state has 'state.{i}.step' but no '{key}'.");
                if (t.Shape != _parameters[i].Shape) throw new ArgumentException($"{Name}.LoadStateDict: '{key}' has shape {t.Shape} but parameter {i} has shape {_parameters[i].Shape}.");
            }
            expectedEntries += 1 + _stateNames.Length;
        }
        if (tensors.Count != expectedEntries)
        {
            var unexpected = tensors.Keys.First(key => !IsExpected(key, steps));
            throw new ArgumentException($"{Name}.LoadStateDict: unexpected entry '{unexpected}'.");
        }
        return steps;
    }

    private bool IsExpected(string key, long[] steps)
    {
        for (int i = 0; i < steps.Length; i++)
            if (steps[i] > 0 && (key == $"state.{i}.step" || _stateNames.Any(name => key == $"state.{i}.{name}"))) return true;
        return false;
    }

    /// <summary>Everything a state must agree on to be loaded here: type, hyperparameters, parameter shapes.</summary>
    private Dictionary<string, string> Configuration()
    {
        var configuration = new Dictionary<string, string> { ["type"] = Name };
        WriteHyperparameters(configuration);
        configuration["param_count"] = Format(_parameters.Length);
        for (int i = 0; i < _parameters.Length; i++) configuration[$"param.{i}.shape"] = _parameters[i].Shape.ToString();
        return configuration;
    }

    private Tensor[] NewState(TensorShape shape)
    {
        var state = new Tensor[_stateNames.Length];
        for (int k = 0; k < state.Length; k++) state[k] = Tensor.Zeros(shape);
        return state;
    }
}

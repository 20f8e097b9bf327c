using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>
/// A layer or a model: named parameters, named buffers (state that is saved but not trained, such as
/// BatchNorm's running statistics), named children, a training flag, and <see cref="Forward"/>.
/// Names follow PyTorch's (<c>features.0.weight</c>), so state dicts load in both directions.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Parameter? Value)> _parameters = [];
    private readonly List<(string Name, Tensor Value)> _buffers = [];
    private readonly List<(string Name, Module Value)> _children = [];

    /// <summary>Whether the module is in training mode (dropout active, batch statistics used).</summary>
    public bool IsTraining { get; private set; } = true;

    public abstract Tensor Forward(Tensor input);

    /// <summary>The architecture as data: enough to rebuild this module with <see cref="ModuleSpec.Build"/>.</summary>
    public abstract JsonObject ToSpec();

    /// <summary>A short description used in summaries and error messages, e.g. <c>Conv2d(3→16, k=3)</c>.</summary>
    public override string ToString() => GetType().Name;

    protected Parameter? RegisterParameter(string name, Parameter? parameter)
    {
        CheckName(name);
        _parameters.Add((name, parameter));
        return parameter;
    }

    protected Tensor RegisterBuffer(string name, Tensor buffer)
    {
        CheckName(name);
        _buffers.Add((name, buffer));
        return buffer;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.')) throw new ArgumentException($"{this}: invalid member name '{name}'.");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{this}: '{name}' is already registered.");
    }

    /// <summary>Direct children, in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children.Select(c => (c.Name, c.Value));

    /// <summary>This module and every descendant, with dotted names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
            foreach (var m in child.NamedModules(Join(prefix, name))) yield return m;
    }

    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters) if (p is not null) yield return (Join(prefix, name), p);
        foreach (var (name, child) in _children)
            foreach (var np in child.NamedParameters(Join(prefix, name))) yield return np;
    }

    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (name, b) in _buffers) yield return (Join(prefix, name), b);
        foreach (var (name, child) in _children)
            foreach (var nb in child.NamedBuffers(Join(prefix, name))) yield return nb;
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Length);

    /// <summary>Sets training mode here and in every descendant.</summary>
    public Module Train(bool training = true)
    {
        IsTraining = training;
        foreach (var (_, child) in _children) child.Train(training);
        return this;
    }

    /// <summary>Inference mode: dropout off, BatchNorm uses its running statistics.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Evaluation mode with nothing recorded until the scope is disposed, then the previous mode again:
    /// <c>using (model.Inference()) { … }</c>. What evaluation, probes and tiled runs all need.
    /// </summary>
    public InferenceScope Inference()
    {
        var scope = new InferenceScope(this, IsTraining, Autograd.NoGrad());
        Eval();
        return scope;
    }

    public readonly struct InferenceScope(Module module, bool wasTraining, Autograd.NoGradScope noGrad) : IDisposable
    {
        public void Dispose()
        {
            noGrad.Dispose();
            module.Train(wasTraining);
        }
    }

    /// <summary>Zeroes every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>
    /// Parameters then buffers of each module in registration order, with PyTorch's names and
    /// layouts. The tensors are the live ones (no copy); serialise or clone them to keep a snapshot.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>();
        foreach (var (name, module) in NamedModules())
        {
            foreach (var (pn, p) in module._parameters) if (p is not null) dict[Join(name, pn)] = p;
            foreach (var (bn, b) in module._buffers) dict[Join(name, bn)] = b;
        }
        return dict;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into this module's parameters and buffers.
    /// With <paramref name="strict"/>, missing and unexpected keys are errors, as in PyTorch.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        if (strict)
        {
            var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
            var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new ArgumentException($"LoadStateDict into {this}: missing keys [{string.Join(", ", missing)}], unexpected keys [{string.Join(", ", unexpected)}].");
        }
        foreach (var (key, target) in own)
        {
            if (!state.TryGetValue(key, out var source)) continue;
            if (source.Shape != target.Shape)
                throw new ArgumentException($"LoadStateDict into {this}: '{key}' has shape {source.Shape} in the state dict but {target.Shape} in the model.");
            source.Span.CopyTo(target.Span);
        }
    }
}

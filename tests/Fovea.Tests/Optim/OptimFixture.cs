using System.Text.Json.Nodes;
using Fovea.Nn;
using Fovea.Optim;
using Fovea.Tests.Support;

namespace Fovea.Tests.Optim;

/// <summary>
/// Reads Fixtures/optim.json (written by gen_optim.py): optimizer trajectories and schedule rates from
/// PyTorch, and builds the matching Fovea objects from PyTorch's argument names.
/// </summary>
internal static class OptimFixture
{
    private static readonly Lazy<JsonObject> Root = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "optim.json")))!.AsObject());

    public static JsonObject Optimizer(string name) => Find("optimizers", name);
    public static JsonObject Schedule(string name) => Find("schedulers", name);

    public static TheoryData<string> Names(string section)
    {
        var data = new TheoryData<string>();
        foreach (var c in Root.Value[section]!.AsArray()) data.Add(c!["name"]!.GetValue<string>());
        return data;
    }

    private static JsonObject Find(string section, string name) =>
        Root.Value[section]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!.AsObject();

    /// <summary>Tensors of one step: a JSON array of {shape, data}.</summary>
    public static Tensor[] Tensors(JsonNode node) => node.AsArray().Select(t => Fixture.ToTensor(t!.AsObject())).ToArray();

    public static Optimizer MakeOptimizer(string type, JsonObject args, IEnumerable<Parameter> parameters)
    {
        double Get(string key, double fallback) => args[key]?.GetValue<double>() ?? fallback;
        bool Flag(string key) => args[key]?.GetValue<bool>() ?? false;
        double Beta(int i, double fallback) => args["betas"]?[i]!.GetValue<double>() ?? fallback;
        return type switch
        {
            "SGD" => new SGD(parameters, Get("lr", double.NaN), Get("momentum", 0), Get("dampening", 0), Get("weight_decay", 0), Flag("nesterov")),
            "Adam" => new Adam(parameters, Get("lr", 1e-3), Beta(0, 0.9), Beta(1, 0.999), Get("eps", 1e-8), Get("weight_decay", 0), Flag("amsgrad")),
            "AdamW" => new AdamW(parameters, Get("lr", 1e-3), Beta(0, 0.9), Beta(1, 0.999), Get("eps", 1e-8), Get("weight_decay", 1e-2), Flag("amsgrad")),
            _ => throw new InvalidOperationException(type),
        };
    }

    public static LrScheduler MakeSchedule(string type, JsonObject args, Optimizer optimizer)
    {
        double Get(string key, double fallback) => args[key]?.GetValue<double>() ?? fallback;
        int Int(string key) => args[key]!.GetValue<int>();
        return type switch
        {
            "StepLR" => new StepLR(optimizer, Int("step_size"), Get("gamma", 0.1)),
            "CosineAnnealingLR" => new CosineAnnealingLR(optimizer, Int("t_max"), Get("eta_min", 0)),
            "OneCycleLR" => new OneCycleLR(optimizer, Get("max_lr", double.NaN), Int("total_steps"), Get("pct_start", 0.3),
                args["anneal_strategy"]?.GetValue<string>() == "linear" ? AnnealStrategy.Linear : AnnealStrategy.Cos,
                Get("div_factor", 25), Get("final_div_factor", 1e4)),
            "LinearWarmup" => new LinearWarmup(
                MakeSchedule(args["inner"]!["type"]!.GetValue<string>(), args["inner"]!.AsObject(), optimizer), Int("warmup_steps"), Get("start_factor", 1.0 / 3)),
            _ => throw new InvalidOperationException(type),
        };
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fovea.Nn;
using Fovea.Optim;
using Fovea.Serialization;

namespace Fovea.Training;

/// <summary>
/// A training run frozen after an epoch, in one safetensors file: the model's state dict (PyTorch's
/// names, so the file is also a model file that <see cref="ModelFile.Load(string)"/> and PyTorch read), the
/// optimizer's state under <c>optimizer.</c>, and in the metadata the model spec, the completed
/// epochs and their metrics, the scheduler's step, the dropout generators' states and the caller's
/// recipe. Saving is crash-safe (temporary file, flush, rename): a kill mid-save leaves the previous
/// checkpoint intact.
/// </summary>
public static class Checkpoint
{
    /// <summary>The metadata key of the training state (JSON).</summary>
    public const string StateKey = "fovea.checkpoint";

    // Losses can be NaN or infinite when a run diverges; the history must still round-trip.
    private static readonly JsonSerializerOptions HistoryJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string path, Trainer trainer, string? recipeJson = null)
    {
        using var optimizerState = trainer.Optimizer.StateDict();
        var tensors = new Dictionary<string, Tensor>(trainer.Model.StateDict());
        foreach (var (name, t) in optimizerState.Tensors) tensors[ModelFile.OptimizerPrefix + name] = t;

        var state = new JsonObject
        {
            ["completed_epochs"] = trainer.CompletedEpochs,
            ["history"] = JsonSerializer.SerializeToNode(trainer.History, HistoryJson),
            ["optimizer"] = ToJson(optimizerState.Metadata),
            ["scheduler"] = trainer.Scheduler is null ? null : ToJson(trainer.Scheduler.StateDict()),
            ["rng"] = new JsonObject(DropoutGenerators(trainer.Model).Select(d =>
                KeyValuePair.Create(d.Name, (JsonNode?)new JsonArray(d.Rng.GetState().Select(w => (JsonNode?)w.ToString(CultureInfo.InvariantCulture)).ToArray())))),
            ["recipe"] = recipeJson is null ? null : JsonNode.Parse(recipeJson),
        };
        var metadata = new Dictionary<string, string>
        {
            [ModelFile.SpecKey] = ModuleSpec.ToJson(trainer.Model),
            [StateKey] = state.ToJsonString(),
        };
        SafeTensors.Save(path, tensors, metadata, ModelFile.StoredType);
    }

    /// <summary>The recipe JSON saved with the checkpoint (null if none), to rebuild the trainer before <see cref="Restore"/>.</summary>
    public static string? ReadRecipe(string path) => ReadRecipe(SafeTensors.Load(path));

    /// <summary>The recipe JSON of an already loaded checkpoint (null if none).</summary>
    public static string? ReadRecipe(SafeTensorsFile file) => ReadState(file)["recipe"]?.ToJsonString();

    /// <summary>
    /// Puts <paramref name="trainer"/> (built from the same recipe: same model, optimizer and scheduler types)
    /// back where the checkpoint was taken: weights and buffers, optimizer and scheduler state, dropout
    /// generators and history. The next <see cref="Trainer.Fit"/> continues with the next epoch.
    /// </summary>
    public static void Restore(string path, Trainer trainer)
    {
        var file = SafeTensors.Load(path);
        var state = ReadState(file);
        try
        {
            ModelFile.LoadWeights(trainer.Model, file, strict: true);
            var optimizerTensors = file.Names.Where(n => n.StartsWith(ModelFile.OptimizerPrefix, StringComparison.Ordinal))
                .ToDictionary(n => n[ModelFile.OptimizerPrefix.Length..], file.ToTensor);
            using (var optimizerState = new OptimizerState(optimizerTensors, FromJson(state["optimizer"])))
                trainer.Optimizer.LoadStateDict(optimizerState);
            if (trainer.Scheduler is not null) trainer.Scheduler.LoadStateDict(FromJson(state["scheduler"]));
            var generators = state["rng"]?.AsObject() ?? [];
            foreach (var (name, rng) in DropoutGenerators(trainer.Model))
            {
                var words = generators[name]?.AsArray() ?? throw new InvalidDataException($"{path}: no random generator state for dropout layer '{name}'.");
                rng.SetState(words.Select(w => ulong.Parse(w!.GetValue<string>(), CultureInfo.InvariantCulture)).ToArray());
            }
            trainer.RestoreHistory(state["history"].Deserialize<List<EpochMetrics>>(HistoryJson) ?? []);
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or FormatException or InvalidOperationException or JsonException)
        {
            throw new InvalidDataException($"{path}: the checkpoint does not fit this model and optimizer: {e.Message}", e);
        }
    }

    private static JsonObject ReadState(SafeTensorsFile file)
    {
        if (!file.Metadata.TryGetValue(StateKey, out var text))
            throw new InvalidDataException($"{file.Source}: not a training checkpoint (no \"{StateKey}\" in the metadata); it can still be loaded as a model.");
        try
        {
            return JsonNode.Parse(text)?.AsObject() ?? throw new InvalidDataException($"{file.Source}: \"{StateKey}\" is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file.Source}: \"{StateKey}\" is not valid JSON: {e.Message}", e);
        }
    }

    private static IEnumerable<(string Name, Rng Rng)> DropoutGenerators(Module model) =>
        model.NamedModules().Where(m => m.Module is Dropout).Select(m => (m.Name, ((Dropout)m.Module).Rng));

    private static JsonObject ToJson(IReadOnlyDictionary<string, string> map) =>
        new(map.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));

    private static Dictionary<string, string> FromJson(JsonNode? node) =>
        node?.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) ?? [];
}

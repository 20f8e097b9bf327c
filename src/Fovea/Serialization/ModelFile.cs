using Fovea.Nn;

namespace Fovea.Serialization;

/// <summary>
/// A model in one safetensors file: its state dict under PyTorch's names (readable by
/// <c>torch.nn.Module.load_state_dict</c>) and its architecture as a JSON spec in the metadata, so
/// <see cref="Load(string)"/> rebuilds it with no user code.
/// </summary>
public static class ModelFile
{
    /// <summary>The metadata key holding the model's <see cref="ModuleSpec"/> JSON.</summary>
    public const string SpecKey = "fovea.spec";

    /// <summary>Where a training checkpoint keeps its optimizer state; loading a model skips these tensors.</summary>
    public const string OptimizerPrefix = "optimizer.";

    /// <summary>Writes the model's state dict and spec (crash-safe: temporary file, flush, rename).</summary>
    public static void Save(string path, Module model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { [SpecKey] = ModuleSpec.ToJson(model) };
        SafeTensors.Save(path, model.StateDict(), meta, StoredType);
    }

    /// <summary>Rebuilds the model saved at <paramref name="path"/> (a model file or a training checkpoint) and loads its weights.</summary>
    public static Module Load(string path) => Load(SafeTensors.Load(path));

    /// <summary>Rebuilds the model held by an already loaded file (a model file or a training checkpoint).</summary>
    public static Module Load(SafeTensorsFile file)
    {
        string path = file.Source;
        if (!file.Metadata.TryGetValue(SpecKey, out var spec))
            throw new InvalidDataException($"{path}: no \"{SpecKey}\" in the metadata, so the architecture is unknown; build the model in code and call LoadWeights.");
        Module model;
        try
        {
            model = ModuleSpec.FromJson(spec, new Rng(0));
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: the model spec in the metadata is invalid: {e.Message}", e);
        }
        LoadWeights(model, file, strict: true);
        return model;
    }

    /// <summary>Loads a state dict saved by Fovea or by PyTorch (safetensors) into <paramref name="model"/>.</summary>
    public static void LoadWeights(Module model, string path, bool strict = true) => LoadWeights(model, SafeTensors.Load(path), strict);

    public static void LoadWeights(Module model, SafeTensorsFile file, bool strict = true)
    {
        var own = model.StateDict();
        var tensors = file.Names.Where(n => !n.StartsWith(OptimizerPrefix, StringComparison.Ordinal) && (strict || own.ContainsKey(n)))
            .ToDictionary(n => n, file.ToTensor);
        try
        {
            model.LoadStateDict(tensors, strict);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{file.Source}: {e.Message}", e);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>How each state-dict entry is stored: PyTorch keeps BatchNorm's step counter as an int64 scalar.</summary>
    public static DType StoredType(string name) => name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? DType.I64 : DType.F32;
}

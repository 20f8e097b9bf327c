using Fovea.Data;
using Fovea.Nn;
using Fovea.Serialization;
using Fovea.Training;

namespace Fovea.Cli;

/// <summary>A model read from a model file or checkpoint, with the normalisation its training used.</summary>
internal sealed record SavedModel(Module Model, Normalization Normalization, string Path)
{
    public static SavedModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such model file.");
        var file = SafeTensors.Load(path); // read once: a checkpoint can be tens of megabytes
        var model = ModelFile.Load(file);
        model.Eval();
        // A checkpoint carries its recipe and so its normalisation; a bare model file is assumed to take Fashion-MNIST's.
        var recipe = file.Metadata.ContainsKey(Checkpoint.StateKey) ? Checkpoint.ReadRecipe(file) : null;
        var normalization = recipe is null ? Normalization.FashionMnist : TrainingRecipe.FromJson(recipe).Normalization;
        return new SavedModel(model, normalization, path);
    }
}

using Fovea.Data;
using Fovea.Nn;
using Fovea.Optim;
using Fovea.Serialization;
using Fovea.Training;

namespace Fovea.Tests.Training;

/// <summary>The README's C# example, kept compiling and working (on the bundled sample, briefly).</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void TheReadmeExampleTrainsAndEvaluatesACnn()
    {
        string folder = DataLocator.FindSample([AppContext.BaseDirectory])!;
        string saved = Path.Combine(Path.GetTempPath(), $"fovea-readme-{Guid.NewGuid():N}.safetensors");
        // ---- README example (with Take(2000) to keep the test short) ----
        var train = MnistFolder.Load(folder, train: true).Take(2000);
        var test = MnistFolder.Load(folder, train: false);

        var rng = new Rng(seed: 1);
        var model = new Sequential(
            new Conv2d(1, 32, kernelSize: 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, kernelSize: 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(64 * 7 * 7, 128, rng: rng), new ReLU(), new Linear(128, 10, rng: rng));

        var trainLoader = new DataLoader(train, batchSize: 64, Normalization.FashionMnist, shuffle: true, seed: 1);
        var testLoader = DataLoader.Ordered(test, batchSize: 256, Normalization.FashionMnist);
        var trainer = new Trainer(model, new Adam(model.Parameters(), lr: 1e-3));
        trainer.Fit(trainLoader, epochs: 2, testLoader);

        var result = Trainer.Evaluate(model, testLoader);
        Console.WriteLine($"test accuracy {result.Accuracy:P2}");
        ModelFile.Save(saved, model);          // weights + architecture; ModelFile.Load(path) rebuilds it
        // ---- end of the README example ----
        try
        {
            Assert.True(result.Accuracy > 0.7, $"accuracy {result.Accuracy}");
            Assert.Equal(model.ParameterCount(), ModelFile.Load(saved).ParameterCount());
        }
        finally
        {
            File.Delete(saved);
        }
    }
}

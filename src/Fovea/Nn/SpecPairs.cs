using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>
/// PyTorch arguments that are an int or a tuple (kernel_size=3 or kernel_size=(3, 5)) in module specs:
/// written as an int when all components agree, read from either form.
/// </summary>
internal static class SpecPairs
{
    public static JsonNode Write((int H, int W) pair) => WriteInts([pair.H, pair.W]);

    public static (int H, int W) Read(JsonObject spec, string key, (int H, int W) fallback)
    {
        int[] values = ReadInts(spec, key, 2, [fallback.H, fallback.W]);
        return (values[0], values[1]);
    }

    public static (int H, int W) Read(JsonObject spec, string key) =>
        spec.ContainsKey(key) ? Read(spec, key, default) : throw new InvalidDataException($"{spec["type"]} spec: missing \"{key}\".");

    public static JsonNode WriteInts(int[] values) =>
        values.All(v => v == values[0]) ? JsonValue.Create(values[0]) : new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>An int (repeated <paramref name="count"/> times) or an array of exactly <paramref name="count"/> ints.</summary>
    public static int[] ReadInts(JsonObject spec, string key, int count, int[] fallback) => spec[key] switch
    {
        null => fallback,
        JsonArray a when a.Count == count => a.Select(n => n!.GetValue<int>()).ToArray(),
        JsonArray a => throw new InvalidDataException($"{spec["type"]} spec: \"{key}\" needs {count} values. Received {a.Count}"),
        var n => Enumerable.Repeat(n.GetValue<int>(), count).ToArray(),
    };
}

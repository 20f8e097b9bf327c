using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>
/// How window layers (Conv2d, LocallyConnected2d) spell their (height, width) arguments in specs and
/// descriptions: a single number when both axes agree, as PyTorch users write them, [h, w] otherwise;
/// padding may also be "same".
/// </summary>
internal static class WindowSpec
{
    public static JsonNode Write((int Height, int Width) pair) =>
        pair.Height == pair.Width ? JsonValue.Create(pair.Height) : new JsonArray(pair.Height, pair.Width);

    public static JsonNode Write(Padding2d padding) =>
        padding.IsSame ? JsonValue.Create("same") : Write((padding.Height, padding.Width));

    /// <summary>Reads an int or an [h, w] array; a missing key gives <paramref name="fallback"/> or, without one, an error naming it.</summary>
    public static (int Height, int Width) Pair(JsonObject spec, string key, int? fallback = null) => spec[key] switch
    {
        JsonArray { Count: 2 } a => (a[0]!.GetValue<int>(), a[1]!.GetValue<int>()),
        JsonValue v => (v.GetValue<int>(), v.GetValue<int>()),
        null when fallback is not null => (fallback.Value, fallback.Value),
        var other => throw new InvalidDataException($"{spec["type"]} spec: \"{key}\" must be an int or [height, width]. Received {other?.ToJsonString() ?? "nothing"}"),
    };

    /// <summary>Reads padding: an int, [h, w], "same" or "valid"; missing means none.</summary>
    public static Padding2d Padding(JsonObject spec, string key) =>
        spec[key] is JsonValue v && v.TryGetValue(out string? text) ? Padding2d.Parse(text) : Pair(spec, key, 0);

    /// <summary>"3" or "(3, 5)" (the form <see cref="Padding2d.ToString"/> uses), for layer descriptions.</summary>
    public static string Describe((int Height, int Width) pair) =>
        pair.Height == pair.Width ? $"{pair.Height}" : $"({pair.Height}, {pair.Width})";
}

using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>
/// The architecture of a model as data. Every module writes itself as a JSON object whose
/// <c>"type"</c> is its class name, and every module class has a
/// <c>public static T FromSpec(JsonObject spec, Rng rng)</c> that builds it back; so a saved model
/// (spec in the checkpoint's metadata) loads with no user code. Your own module types join with
/// <see cref="Register"/>.
/// </summary>
public static class ModuleSpec
{
    private static readonly Dictionary<string, Func<JsonObject, Rng, Module>> Factories = Discover(typeof(Module).Assembly);

    private static Dictionary<string, Func<JsonObject, Rng, Module>> Discover(Assembly assembly)
    {
        var map = new Dictionary<string, Func<JsonObject, Rng, Module>>();
        foreach (var type in assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Module)) && !t.IsAbstract))
        {
            var method = type.GetMethod("FromSpec", BindingFlags.Public | BindingFlags.Static, [typeof(JsonObject), typeof(Rng)]);
            if (method is not null) map[type.Name] = (spec, rng) => (Module)method.Invoke(null, [spec, rng])!;
        }
        return map;
    }

    /// <summary>Makes a module type of your own loadable from a spec.</summary>
    public static void Register(string type, Func<JsonObject, Rng, Module> factory)
    {
        lock (Factories) Factories[type] = factory;
    }

    /// <summary>Builds a module from its spec; parameters are freshly initialised from <paramref name="rng"/>.</summary>
    public static Module Build(JsonObject spec, Rng rng)
    {
        string type = spec["type"]?.GetValue<string>() ?? throw new InvalidDataException($"Module spec has no \"type\": {spec.ToJsonString()}");
        Func<JsonObject, Rng, Module>? factory;
        lock (Factories) Factories.TryGetValue(type, out factory);
        if (factory is null) throw new InvalidDataException($"Unknown module type \"{type}\" in spec. Known: {string.Join(", ", Factories.Keys.Order())}");
        try
        {
            return factory(spec, rng);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new InvalidDataException($"Invalid spec for {type}: {e.InnerException.Message}", e.InnerException);
        }
    }

    public static Module FromJson(string json, Rng rng) =>
        Build(JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("Module spec JSON must be an object."), rng);

    public static string ToJson(Module module, bool indented = false) =>
        module.ToSpec().ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    // Readers used by FromSpec implementations, with errors that name the field.
    public static int Int(JsonObject spec, string key) =>
        spec[key]?.GetValue<int>() ?? throw new InvalidDataException($"{spec["type"]} spec: missing \"{key}\".");
    public static int Int(JsonObject spec, string key, int fallback) => spec[key]?.GetValue<int>() ?? fallback;
    public static float Float(JsonObject spec, string key, float fallback) => spec[key]?.GetValue<float>() ?? fallback;
    public static bool Bool(JsonObject spec, string key, bool fallback) => spec[key]?.GetValue<bool>() ?? fallback;
    public static string? String(JsonObject spec, string key) => spec[key]?.GetValue<string>();
    public static int[] Ints(JsonObject spec, string key, int[] fallback) =>
        spec[key] is JsonArray a ? a.Select(n => n!.GetValue<int>()).ToArray() : fallback;
    public static JsonObject Object(JsonObject spec, string key) =>
        spec[key] as JsonObject ?? throw new InvalidDataException($"{spec["type"]} spec: missing object \"{key}\".");
}

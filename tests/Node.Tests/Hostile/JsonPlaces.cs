using System.Text.Json.Nodes;

namespace Midia.Node.Tests.Hostile;

/// <summary>Where a fuzz test puts a hostile value in a seed document: any place in its tree.</summary>
static class JsonPlaces
{
    /// <summary>A random place: (null, null) for the root, else its parent and its name or index.</summary>
    public static (JsonNode? Parent, object? Key) RandomPlace(Random random, JsonNode root)
    {
        var places = new List<(JsonNode? Parent, object? Key)> { (null, null) };
        void Walk(JsonNode node)
        {
            if (node is JsonObject o)
                foreach (var (name, child) in o.ToList())
                {
                    places.Add((o, name));
                    if (child is not null) Walk(child);
                }
            else if (node is JsonArray a)
                for (var i = 0; i < a.Count; i++)
                {
                    places.Add((a, i));
                    if (a[i] is { } child) Walk(child);
                }
        }
        Walk(root);
        return places[random.Next(places.Count)];
    }

    /// <summary>Puts <paramref name="value"/> at a place <see cref="RandomPlace"/> gave (not the root).</summary>
    public static void Set(JsonNode parent, object? key, JsonNode? value)
    {
        if (parent is JsonObject o) o[(string)key!] = value;
        else ((JsonArray)parent)[(int)key!] = value;
    }
}

using System.Text.Json;
using Midia.Protos.Coordinator.V1;

using Midia.Care;

namespace Midia.Cli.Care;

/// <summary>
/// The `midia summary --json` document (docs/INTERFACE.md): {"requestId", "sites": [{"site",
/// "status", "message"?, "entries"}], "entries": [{"site", "kind", "system", "code", "display",
/// "date", "value"?, "unit"?, then "sites", "section", "endDate"?, "valueSystem"?, "valueCode"?,
/// "valueDisplay"?}]}. "site" is the first source site; "sites" lists every site of a folded entry.
/// </summary>
public static class SummaryJson
{
    public static void Write(Utf8JsonWriter json, SummaryReply reply)
    {
        json.WriteStartObject();
        json.WriteString("requestId", reply.RequestId);
        json.WriteStartArray("sites");
        foreach (var site in reply.Sites)
        {
            json.WriteStartObject();
            json.WriteString("site", site.Site);
            json.WriteString("status", site.Status.Word());
            if (site.Status != SiteStatus.Ok) json.WriteString("message", site.Message.Length > 0 ? site.Message : SummarySection.Meaning(site.Status));
            json.WriteNumber("entries", site.Entries);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("entries");
        foreach (var timeline in reply.Entries)
        {
            var e = timeline.Entry;
            json.WriteStartObject();
            json.WriteString("site", timeline.Sites.FirstOrDefault() ?? "");
            json.WriteString("kind", e.Kind);
            json.WriteString("system", e.System);
            json.WriteString("code", e.Code);
            json.WriteString("display", e.Display);
            if (e.Date.Length > 0) json.WriteString("date", e.Date); else json.WriteNull("date");
            if (e.HasValue) json.WriteNumber("value", e.Value);
            if (e.Unit.Length > 0) json.WriteString("unit", e.Unit);
            json.WriteStartArray("sites");
            foreach (var site in timeline.Sites) json.WriteStringValue(site);
            json.WriteEndArray();
            json.WriteString("section", SummarySection.Of(e).Id);
            if (e.EndDate.Length > 0) json.WriteString("endDate", e.EndDate);
            if (e.ValueCode.Length > 0)
            {
                json.WriteString("valueSystem", e.ValueSystem);
                json.WriteString("valueCode", e.ValueCode);
                if (e.ValueDisplay.Length > 0) json.WriteString("valueDisplay", e.ValueDisplay);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}

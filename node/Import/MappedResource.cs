namespace Midia.Node.Import;

/// <summary>
/// One resource read and checked, ready to be written: producing it needs no database, so the
/// import parses on one core while SQLite writes on the other. A line that could not be read
/// (or a skipped type) travels the same way, so that problems stay in file order.
/// </summary>
sealed class MappedResource(string file, int line, string jsonPath, string type)
{
    public string File => file;
    public int Line => line;
    public string Type => type;
    public string Id { get; set; } = "";

    /// <summary>The referenced patient's resource id (every type but Patient), and where the reference is.</summary>
    public string? PatientId { get; set; }
    public string PatientPath { get; set; } = "subject.reference";

    /// <summary>A Patient resource's row.</summary>
    public PatientRow? Patient { get; set; }

    public List<PendingFact> Facts { get; } = [];
    public List<(string Name, Coding Code)> Attributes { get; } = [];
    public List<(string Policy, bool Permit, int? Start, int? End)> Provisions { get; } = [];
    public bool ConsentActive { get; set; }

    /// <summary>References to other resources of the site (reference_link): name, target type, target id.</summary>
    public List<(string Name, string TargetType, string TargetId)> Links { get; } = [];

    /// <summary>Status entered-in-error: written as nothing, so the resource counts nowhere (its earlier version is removed).</summary>
    public bool EnteredInError { get; set; }

    /// <summary>A statement, administration or request: how its drug's facts are dated.</summary>
    public MedicationUse? Medication { get; set; }

    /// <summary>The Medication resource (by id) the drug is, when the codes come from it rather than from the resource itself.</summary>
    public string? MedicationId { get; set; }

    /// <summary>A Medication resource's codes (Medication.code and its ingredients).</summary>
    public List<Coding>? MedicationCodes { get; set; }

    public List<ImportProblem>? Problems { get; private set; }
    public ImportProblem? Warning { get; private init; }

    /// <summary>A problem at a JSON path inside this resource: `Type/id path: message`.</summary>
    public void Problem(string path, string message)
    {
        var where = path.Length > 0 || jsonPath.Length > 0 ? " " + (jsonPath + path).TrimEnd('.') : "";
        (Problems ??= []).Add(new ImportProblem(file, line, $"{type}{(Id.Length > 0 ? "/" + Id : "")}{where}: {message}"));
    }

    public static MappedResource Unreadable(ImportProblem problem)
    {
        var m = new MappedResource(problem.File, problem.Line, "", "");
        m.Problems = [problem];
        return m;
    }

    public static MappedResource Skipped(ImportProblem warning, string type) => new(warning.File, warning.Line, "", "") { Warning = warning, SkippedType = type };

    /// <summary>The resource type of a skipped resource, for the import summary's count per type.</summary>
    public string? SkippedType { get; private init; }

    /// <summary>Where in a Bundle the resource stood (entry[i].resource.), for messages written after mapping.</summary>
    public string JsonPath => jsonPath;
}

/// <summary>How a statement, administration or request dates the facts of its drug.</summary>
readonly record struct MedicationUse(Midia.Node.Store.FactKind Kind, int? Date, int? End);

readonly record struct PatientRow(string Sex, int? Birth, bool Deceased, int? DeceasedDate, string? Kvnr, string? Family, string? Given);

/// <summary>A fact of a resource, written once its patient is known.</summary>
readonly record struct PendingFact(Coding Code, Midia.Node.Store.FactKind Kind, int? Date, int? End, double? Number, string? Unit, Coding? Value, string? Display);

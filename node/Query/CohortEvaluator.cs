using System.Text;
using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// Evaluates a CohortQuery over the site database into a PatientSet. Groups are taken smallest
/// first (by the cached row count of each criterion's index range). The first is scanned: one index
/// range scan per term code on fact (fact_code, fact_quantity or fact_concept) setting bits. Each
/// later group is either scanned and intersected, or — when few candidates are left — checked per
/// candidate with an index seek on (sid, code, pid), whichever the cost estimate says is cheaper.
/// Sex and age come from in-memory arrays. Calls are serialised: a SqliteConnection is not thread-safe.
/// </summary>
public sealed class CohortEvaluator(SqliteConnection connection)
{
    readonly Lock gate = new();
    readonly Dictionary<string, SqliteCommand> prepared = new(StringComparer.Ordinal);
    SiteSnapshot? snapshot;

    // Cost model in microseconds, measured on the benchmark machine: reading one row of a range
    // scan into C#, one seek statement per candidate, statement overhead.
    const double RowCost = 0.2, SeekCost = 3.0, StatementCost = 20;

    /// <summary>How groups after the first are evaluated; tests force Scan or Probe to cover both paths.</summary>
    internal enum Strategy { Auto, Scan, Probe }

    internal Strategy Mode { get; set; } = Strategy.Auto;

    /// <summary>Inclusion (AND of ORs) minus exclusion (OR of ANDs); no inclusion criteria = every
    /// patient. today (Days) is the reference date of age criteria.</summary>
    public PatientSet Evaluate(CohortQuery query, int today)
    {
        lock (gate)
        {
            var site = Current();
            CheckAttributes(query, site);
            var probes = new Probes(this, site);
            PatientSet? result = null; // null: nobody excluded yet, every patient of the site
            var ordered = query.Inclusion.Select(g => (Group: g, Size: g.Sum(c => EstimatedSize(c, site)))).OrderBy(g => g.Size).ToList();
            foreach (var (group, _) in ordered)
            {
                if (result is not null && Probing(group, result, site))
                    result = Filter(result, pid => group.Any(c => probes.Matches(c, pid, today)));
                else
                {
                    var any = new PatientSet(site.MaxPid);
                    foreach (var criterion in group) Match(criterion, site, today, any);
                    any.IntersectWith(result ?? site.All); // facts of pids without a patient row never count
                    result = any;
                }
            }
            result ??= site.All.Clone();
            foreach (var group in query.Exclusion)
            {
                if (Probing(group, result, site))
                {
                    result = Filter(result, pid => !group.All(c => probes.Matches(c, pid, today)));
                    continue;
                }
                PatientSet? every = null;
                foreach (var criterion in group)
                {
                    var matched = new PatientSet(site.MaxPid);
                    Match(criterion, site, today, matched);
                    if (every is null) every = matched;
                    else every.IntersectWith(matched);
                }
                result.ExceptWith(every!);
            }
            return result;
        }
    }

    /// <summary>Whether checking each remaining candidate is cheaper than scanning the group.</summary>
    bool Probing(IReadOnlyList<Criterion> group, PatientSet candidates, SiteSnapshot site)
    {
        if (Mode != Strategy.Auto) return Mode == Strategy.Probe;
        double scan = 0, seek = 0;
        foreach (var criterion in group)
        {
            var statements = StatementCount(criterion, site);
            switch (criterion.Kind)
            {
                case CriterionKind.Sex: scan += site.MaxPid / 64.0 * 0.01; seek += 0.01; break;
                case CriterionKind.Age: scan += site.MaxPid * 0.003; seek += 0.01; break;
                default: scan += RowCount(criterion, site) * RowCost + statements * StatementCost; seek += statements * SeekCost; break;
            }
        }
        return candidates.Count() * seek < scan;
    }

    /// <summary>Rough number of patients a criterion selects, for ordering groups: the rows of its
    /// scans for facts (an upper bound), the gender counts for sex, half the site for age.</summary>
    double EstimatedSize(Criterion criterion, SiteSnapshot site) => criterion.Kind switch
    {
        CriterionKind.Sex => ((ConceptFilter)criterion.Value!).Concepts
            .Select(c => Array.IndexOf(PatientCodes.Genders, c.Code)).Where(i => i >= 0).Distinct().Sum(i => (double)site.BySex[i].Count()),
        CriterionKind.Age => site.MaxPid / 2.0,
        _ => RowCount(criterion, site),
    };

    long RowCount(Criterion criterion, SiteSnapshot site)
    {
        var key = CanonicalForm.WriteCriterion(criterion);
        if (site.RowCounts.TryGetValue(key, out var rows)) return rows;
        rows = 0;
        foreach (var (code, sid, concept) in Targets(criterion, site))
        {
            var spec = new SqliteCommand();
            if (!Build(spec, criterion, code, sid, concept, site, Shape.Count)) continue;
            rows += (long)Bound(spec).ExecuteScalar()!;
        }
        return site.RowCounts[key] = rows;
    }

    static int StatementCount(Criterion criterion, SiteSnapshot site) => criterion.Kind == CriterionKind.Facts ? Targets(criterion, site).Count() : 0;

    static PatientSet Filter(PatientSet candidates, Func<long, bool> keep)
    {
        var kept = new PatientSet(candidates.Capacity - 1);
        foreach (var pid in candidates.Members())
            if (keep(pid)) kept.Add(pid);
        return kept;
    }

    /// <summary>
    /// Counts of the cohort per stratum: `sex`, `age-band` (completed years today in 10-year bands
    /// 0-9, 10-19, ...), `year` (calendar year of the patient's first dated fact matching any
    /// criterion of the inclusion group written first). Several stratifiers cross; only non-empty
    /// strata are listed, ordered by key. Patients without the information are in stratum `unknown`.
    /// </summary>
    public IReadOnlyList<StratumCount> Stratify(CohortQuery query, PatientSet cohort, IReadOnlyList<string> by, int today)
    {
        lock (gate)
        {
            var site = Current();
            for (int i = 0; i < by.Count; i++)
            {
                if (!Stratification.All.Contains(by[i]))
                    throw new CcdlException($"by[{i}]", $"unknown stratifier '{by[i]}'; use {string.Join(", ", Stratification.All)}");
                if (by.Take(i).Contains(by[i]))
                    throw new CcdlException($"by[{i}]", $"stratifier '{by[i]}' is given twice; give it once");
            }
            int[]? firstYear = null;
            int yearIndex = by.ToList().IndexOf(Stratification.Year);
            if (yearIndex >= 0) firstYear = FirstYears(query, site, yearIndex);

            var todayDate = Days.ToDate(today);
            var strata = new Dictionary<string, (string[] Key, long Count)>(StringComparer.Ordinal);
            foreach (var pid in cohort.Members())
            {
                if (pid > site.MaxPid) continue;
                var key = new string[by.Count];
                for (int i = 0; i < by.Count; i++)
                {
                    key[i] = by[i] switch
                    {
                        Stratification.Sex => site.Sex[pid] == SiteSnapshot.NoPatient ? "unknown" : PatientCodes.Genders[site.Sex[pid]],
                        Stratification.AgeBand => AgeBand(site.Birth[pid], todayDate),
                        _ => firstYear![pid] == 0 ? "unknown" : firstYear[pid].ToString(),
                    };
                }
                var joined = string.Join('\u001f', key);
                strata[joined] = strata.TryGetValue(joined, out var entry) ? (entry.Key, entry.Count + 1) : (key, 1);
            }
            return strata.Values
                .Select(s => new StratumCount(s.Key, s.Count))
                .Order(Stratification.KeyOrder)
                .ToList();
        }
    }

    static string AgeBand(int birth, DateOnly today)
    {
        if (birth == SiteSnapshot.NoBirthDate) return "unknown";
        var age = Stratification.CompletedYears(Days.ToDate(birth), today);
        if (age < 0) return "unknown";
        var low = age / 10 * 10;
        return $"{low}-{low + 9}";
    }

    int[] FirstYears(CohortQuery query, SiteSnapshot site, int byIndex)
    {
        var anchor = query.FirstGroupAsWritten
            ?? throw new CcdlException($"by[{byIndex}]", "year stratifies by the first match of the first inclusion group, and the query has none; add an inclusion criterion");
        foreach (var criterion in anchor)
            if (criterion.Kind != CriterionKind.Facts)
                throw new CcdlException(criterion.Path, "year stratification needs dated facts in the first inclusion group, and sex or age has no date; move this criterion to another group");
        var first = new int[site.MaxPid + 1];
        Array.Fill(first, int.MaxValue);
        foreach (var criterion in anchor)
            Scan(criterion, site, withDate: true, (pid, date) => { if (date < first[pid]) first[pid] = date; });
        var years = new int[site.MaxPid + 1];
        for (long pid = 0; pid <= site.MaxPid; pid++)
            if (first[pid] != int.MaxValue) years[pid] = Days.ToDate(first[pid]).Year;
        return years;
    }

    /// <summary>SQLite's plan of every scan the query runs (EXPLAIN QUERY PLAN), one string per
    /// statement: how to check that each criterion is an index search, not a table scan.</summary>
    internal IReadOnlyList<string> Plans(CohortQuery query)
    {
        lock (gate)
        {
            var site = Current();
            var plans = new List<string>();
            foreach (var criterion in query.Inclusion.Concat(query.Exclusion).SelectMany(g => g).Where(c => c.Kind == CriterionKind.Facts))
                foreach (var code in criterion.TermCodes)
                {
                    if (!site.Sids.TryGetValue(code.System, out var sid)) continue;
                    (long, string)? concept = criterion.Value is ConceptFilter c && c.Concepts.FirstOrDefault(x => site.Sids.ContainsKey(x.System)) is { } first
                        ? (site.Sids[first.System], first.Code) : null;
                    using var command = connection.CreateCommand();
                    if (!Build(command, criterion, code, sid, concept, site, Shape.Pids)) continue;
                    command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
                    using var reader = command.ExecuteReader();
                    var lines = new List<string>();
                    while (reader.Read()) lines.Add(reader.GetString(3));
                    plans.Add(string.Join(" / ", lines));
                }
            return plans;
        }
    }

    SiteSnapshot Current()
    {
        var probe = new SqliteCommand("SELECT (SELECT value FROM meta WHERE key = 'data_version'), (SELECT IFNULL(MAX(pid), 0) FROM patient)");
        long version, maxPid;
        using (var reader = Bound(probe).ExecuteReader())
        {
            reader.Read();
            version = reader.IsDBNull(0) ? 0 : Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture);
            maxPid = reader.GetInt64(1);
        }
        if (snapshot is null || snapshot.Version != version || snapshot.MaxPid != maxPid)
            snapshot = SiteSnapshot.Load(connection, (version, maxPid));
        return snapshot;
    }

    static void CheckAttributes(CohortQuery query, SiteSnapshot site)
    {
        foreach (var criterion in query.Inclusion.Concat(query.Exclusion).SelectMany(g => g))
            foreach (var attribute in criterion.Attributes)
                if (!site.AttributeNames.Contains(attribute.Name))
                    throw new CcdlException(attribute.Path,
                        $"this site's data carries no attribute '{attribute.Name}', so the filter cannot be evaluated; remove it");
    }

    void Match(Criterion criterion, SiteSnapshot site, int today, PatientSet into)
    {
        switch (criterion.Kind)
        {
            case CriterionKind.Sex:
                foreach (var concept in ((ConceptFilter)criterion.Value!).Concepts)
                    if (Array.IndexOf(PatientCodes.Genders, concept.Code) is var index and >= 0) into.UnionWith(site.BySex[index]);
                break;
            case CriterionKind.Age:
            {
                var intervals = BirthIntervals(criterion.Value!, Days.ToDate(today));
                var birth = site.Birth;
                for (long pid = 0; pid < birth.Length; pid++)
                {
                    var b = birth[pid];
                    if (b == SiteSnapshot.NoBirthDate) continue;
                    foreach (var (low, high) in intervals)
                        if (b >= low && b <= high) { into.Add(pid); break; }
                }
                break;
            }
            default:
                Scan(criterion, site, withDate: false, (pid, _) => into.Add(pid));
                break;
        }
    }

    /// <summary>Birth days (inclusive intervals) whose completed age in years today meets the filter:
    /// age >= n exactly when birth <= today minus n years (29 Feb maps to 28 Feb, so a person born on
    /// 29 Feb turns a year older on 1 March in common years).</summary>
    static List<(long Low, long High)> BirthIntervals(ValueFilter filter, DateOnly today)
    {
        long AtLeast(long n)
        {
            long year = today.Year - n;
            if (year < 1) return long.MinValue;
            if (year > 9999) return long.MaxValue - 1;
            var day = Math.Min(today.Day, DateTime.DaysInMonth((int)year, today.Month));
            return Days.From(new DateOnly((int)year, today.Month, day));
        }
        const long Min = long.MinValue, Max = long.MaxValue;
        return filter switch
        {
            ComparatorFilter { Comparator: Comparator.Ge } c => [(Min, AtLeast((long)c.Value))],
            ComparatorFilter { Comparator: Comparator.Gt } c => [(Min, AtLeast((long)c.Value + 1))],
            ComparatorFilter { Comparator: Comparator.Le } c => [(AtLeast((long)c.Value + 1) + 1, Max)],
            ComparatorFilter { Comparator: Comparator.Lt } c => [(AtLeast((long)c.Value) + 1, Max)],
            ComparatorFilter { Comparator: Comparator.Eq } c => [(AtLeast((long)c.Value + 1) + 1, AtLeast((long)c.Value))],
            ComparatorFilter { Comparator: Comparator.Ne } c => [(Min, AtLeast((long)c.Value + 1)), (AtLeast((long)c.Value) + 1, Max)],
            RangeFilter r => [(AtLeast((long)r.Max + 1) + 1, AtLeast((long)r.Min))],
            _ => throw new InvalidOperationException("age filters are quantities"),
        };
    }

    /// <summary>Runs the criterion's range scans: one statement per term code (and per selected
    /// concept, so each is an equality seek on fact_concept).</summary>
    void Scan(Criterion criterion, SiteSnapshot site, bool withDate, Action<long, int> row)
    {
        foreach (var (code, sid, concept) in Targets(criterion, site))
        {
            var spec = new SqliteCommand();
            if (!Build(spec, criterion, code, sid, concept, site, withDate ? Shape.PidsAndDates : Shape.Pids)) continue;
            using var reader = Bound(spec).ExecuteReader();
            while (reader.Read())
            {
                var pid = reader.GetInt64(0);
                if (pid < 0 || pid > site.MaxPid) continue;
                if (withDate)
                {
                    if (reader.IsDBNull(1)) continue;
                    row(pid, checked((int)reader.GetInt64(1)));
                }
                else row(pid, 0);
            }
        }
    }

    /// <summary>One statement per (term code, selected concept) in systems the site knows; a system
    /// the site never saw matches nothing.</summary>
    static IEnumerable<(TermCode Code, long Sid, (long Sid, string Code)? Concept)> Targets(Criterion criterion, SiteSnapshot site)
    {
        foreach (var code in criterion.TermCodes)
        {
            if (!site.Sids.TryGetValue(code.System, out var sid)) continue;
            if (criterion.Value is ConceptFilter concepts)
            {
                foreach (var concept in concepts.Concepts)
                    if (site.Sids.TryGetValue(concept.System, out var valueSid)) yield return (code, sid, (valueSid, concept.Code));
            }
            else yield return (code, sid, null);
        }
    }

    enum Shape { Pids, PidsAndDates, Count, Probe }

    /// <summary>The SQL of one statement; false when it can match nothing (every concept of an
    /// attribute filter in an unknown system, or no code under a prefix). A probe tests one patient
    /// ($pid) by seeking (sid, code, pid) for each code — under a prefix, each distinct code there.</summary>
    static bool Build(SqliteCommand command, Criterion criterion, TermCode code, long sid, (long Sid, string Code)? concept, SiteSnapshot site,
        Shape shape, IReadOnlyList<string>? codesUnderPrefix = null)
    {
        bool hierarchical = CodeSystems.IsHierarchical(code.System);
        var sql = new StringBuilder(shape switch
        {
            Shape.Pids => "SELECT f.pid FROM fact f",
            Shape.PidsAndDates => "SELECT f.pid, f.date FROM fact f",
            Shape.Count => "SELECT COUNT(*) FROM fact f",
            _ => hierarchical && codesUnderPrefix is null ? "SELECT 1 FROM fact f INDEXED BY fact_patient" : "SELECT 1 FROM fact f INDEXED BY fact_code",
        });
        sql.Append(" WHERE f.sid = $sid");
        command.Parameters.AddWithValue("$sid", sid);
        int next = 0;
        string Parameter(object value)
        {
            var name = $"$p{next++}";
            command.Parameters.AddWithValue(name, value);
            return name;
        }

        if (shape == Shape.Probe && hierarchical && codesUnderPrefix is not null)
        {
            if (codesUnderPrefix.Count == 0) return false;
            sql.Append(" AND f.code IN (").AppendJoin(", ", codesUnderPrefix.Select(c => Parameter(c))).Append(')');
        }
        else if (hierarchical && Successor(code.Code) is { } upper)
            sql.Append($" AND f.code >= {Parameter(code.Code)} AND f.code < {Parameter(upper)}");
        else if (hierarchical)
            sql.Append($" AND f.code >= {Parameter(code.Code)}");
        else
            sql.Append($" AND f.code = {Parameter(code.Code)}");
        if (shape == Shape.Probe)
        {
            sql.Append(" AND f.pid = $pid");
            command.Parameters.AddWithValue("$pid", 0L);
        }

        switch (criterion.Value)
        {
            case ConceptFilter:
                sql.Append($" AND f.value_sid = {Parameter(concept!.Value.Sid)} AND f.value_code = {Parameter(concept.Value.Code)}");
                break;
            case ComparatorFilter or RangeFilter:
                sql.Append(Quantity("f", criterion.Value, Parameter));
                break;
        }
        if (criterion.Time?.After is { } after) sql.Append($" AND f.date >= {Parameter(after)}");
        if (criterion.Time?.Before is { } before) sql.Append($" AND f.date <= {Parameter(before)}");

        foreach (var attribute in criterion.Attributes)
        {
            sql.Append($" AND EXISTS (SELECT 1 FROM attribute a WHERE a.resource_type = f.resource_type AND a.resource_id = f.resource_id AND a.name = {Parameter(attribute.Name)}");
            if (attribute.Filter is ConceptFilter concepts)
            {
                var known = concepts.Concepts.Where(c => site.Sids.ContainsKey(c.System)).ToList();
                if (known.Count == 0) return false;
                sql.Append(" AND (").AppendJoin(" OR ", known.Select(c => $"(a.sid = {Parameter(site.Sids[c.System])} AND a.code = {Parameter(c.Code)})")).Append(')');
            }
            else sql.Append(Quantity("a", attribute.Filter, Parameter));
            sql.Append(')');
        }
        if (shape == Shape.Probe) sql.Append(" LIMIT 1");
        command.CommandText = sql.ToString();
        return true;
    }

    /// <summary>Value and unit conditions: the value compares, and the unit is one of the spellings
    /// of the query's unit (or absent when the query gives none).</summary>
    static string Quantity(string table, ValueFilter filter, Func<object, string> parameter)
    {
        var (condition, unit) = filter switch
        {
            ComparatorFilter c => ($"{table}.value_num {Operator(c.Comparator)} {parameter(c.Value)}", c.Unit),
            RangeFilter r => ($"{table}.value_num BETWEEN {parameter(r.Min)} AND {parameter(r.Max)}", r.Unit),
            _ => throw new InvalidOperationException("not a quantity filter"),
        };
        var unitCondition = unit is null
            ? $"({table}.unit IS NULL OR {table}.unit = '')"
            : Units.Spellings(unit) is { Count: 1 } one
                ? $"{table}.unit = {parameter(one[0])}"
                : $"{table}.unit IN ({string.Join(", ", Units.Spellings(unit).Select(s => parameter(s)))})";
        return $" AND {unitCondition} AND {condition}";
    }

    static string Operator(Comparator comparator) => comparator switch
    {
        Comparator.Eq => "=", Comparator.Ne => "<>", Comparator.Lt => "<",
        Comparator.Le => "<=", Comparator.Gt => ">", _ => ">=",
    };

    /// <summary>Distinct codes stored under a prefix, found by skipping through fact_code (one seek
    /// each); null when there are too many to seek one by one.</summary>
    List<string>? CodesUnder(SiteSnapshot site, long sid, string prefix)
    {
        if (site.CodesUnder.TryGetValue((sid, prefix), out var cached)) return cached;
        var codes = new List<string>();
        using var command = connection.CreateCommand();
        var upper = Successor(prefix);
        command.CommandText = upper is null
            ? "SELECT MIN(code) FROM fact WHERE sid = $sid AND code > $after"
            : "SELECT MIN(code) FROM fact WHERE sid = $sid AND code > $after AND code < $upper";
        command.Parameters.AddWithValue("$sid", sid);
        if (upper is not null) command.Parameters.AddWithValue("$upper", upper);
        var after = command.Parameters.AddWithValue("$after", prefix);
        if (Exists(sid, prefix)) codes.Add(prefix);
        while (command.ExecuteScalar() is string code)
        {
            if (codes.Count == 64) return site.CodesUnder[(sid, prefix)] = null;
            codes.Add(code);
            after.Value = code;
        }
        return site.CodesUnder[(sid, prefix)] = codes;
    }

    bool Exists(long sid, string code)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM fact WHERE sid = $sid AND code = $code LIMIT 1";
        command.Parameters.AddWithValue("$sid", sid);
        command.Parameters.AddWithValue("$code", code);
        return command.ExecuteScalar() is not null;
    }

    /// <summary>Per-candidate checks for one evaluation: a seek statement per term code, bound
    /// again for every candidate; sex and age from the snapshot arrays.</summary>
    sealed class Probes(CohortEvaluator evaluator, SiteSnapshot site)
    {
        readonly Dictionary<Criterion, List<SqliteCommand>> specs = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<Criterion, List<(long Low, long High)>> ages = new(ReferenceEqualityComparer.Instance);

        public bool Matches(Criterion criterion, long pid, int today)
        {
            switch (criterion.Kind)
            {
                case CriterionKind.Sex:
                    return site.Sex[pid] != SiteSnapshot.NoPatient
                        && ((ConceptFilter)criterion.Value!).Concepts.Any(c => c.Code == PatientCodes.Genders[site.Sex[pid]]);
                case CriterionKind.Age:
                {
                    if (!ages.TryGetValue(criterion, out var intervals))
                        ages[criterion] = intervals = BirthIntervals(criterion.Value!, Days.ToDate(today));
                    var birth = site.Birth[pid];
                    return birth != SiteSnapshot.NoBirthDate && intervals.Any(i => birth >= i.Low && birth <= i.High);
                }
                default:
                    foreach (var spec in For(criterion))
                    {
                        var command = evaluator.Bound(spec);
                        command.Parameters["$pid"].Value = pid;
                        if (command.ExecuteScalar() is not null) return true;
                    }
                    return false;
            }
        }

        List<SqliteCommand> For(Criterion criterion)
        {
            if (specs.TryGetValue(criterion, out var list)) return list;
            list = [];
            foreach (var (code, sid, concept) in Targets(criterion, site))
            {
                var codes = CodeSystems.IsHierarchical(code.System) ? evaluator.CodesUnder(site, sid, code.Code) : null;
                var spec = new SqliteCommand();
                if (Build(spec, criterion, code, sid, concept, site, Shape.Probe, codes)) list.Add(spec);
            }
            return specs[criterion] = list;
        }
    }

    /// <summary>The connection's command for a statement's SQL, with the statement's values bound.
    /// Each SQL text is prepared once and reused: preparing costs more than a small seek.</summary>
    SqliteCommand Bound(SqliteCommand spec)
    {
        if (!prepared.TryGetValue(spec.CommandText, out var command))
        {
            if (prepared.Count >= 512)
            {
                foreach (var old in prepared.Values) old.Dispose();
                prepared.Clear();
            }
            command = connection.CreateCommand();
            command.CommandText = spec.CommandText;
            foreach (SqliteParameter parameter in spec.Parameters) command.Parameters.Add(new SqliteParameter(parameter.ParameterName, null));
            prepared[spec.CommandText] = command;
        }
        for (int i = 0; i < spec.Parameters.Count; i++) command.Parameters[i].Value = spec.Parameters[i].Value;
        return command;
    }

    /// <summary>The least string greater than every string starting with prefix (C50 -> C51), or
    /// null if there is none; [prefix, successor) is then exactly the codes starting with prefix.</summary>
    internal static string? Successor(string prefix)
    {
        var chars = prefix.ToCharArray();
        for (int i = chars.Length - 1; i >= 0; i--)
        {
            if (chars[i] == char.MaxValue) continue;
            chars[i]++;
            return new string(chars, 0, i + 1);
        }
        return null;
    }
}

/// <summary>One stratum: Key holds one value per stratifier, in the order they were asked for.</summary>
public sealed record StratumCount(IReadOnlyList<string> Key, long Count);

/// <summary>The stratifiers of the stratified-count query type.</summary>
public static class Stratification
{
    public const string Sex = "sex";
    public const string AgeBand = "age-band";
    public const string Year = "year";
    public static readonly string[] All = [Sex, AgeBand, Year];

    /// <summary>Completed years of life on the given day (the birthday itself counts).</summary>
    public static int CompletedYears(DateOnly birth, DateOnly today) =>
        today.Year - birth.Year - ((today.Month, today.Day).CompareTo((birth.Month, birth.Day)) < 0 ? 1 : 0);

    /// <summary>Orders strata: numbers numerically (0-9 before 10-19, years), `unknown` last.</summary>
    public static readonly Comparer<StratumCount> KeyOrder = Comparer<StratumCount>.Create((a, b) =>
    {
        for (int i = 0; i < Math.Min(a.Key.Count, b.Key.Count); i++)
        {
            int order = Compare(a.Key[i], b.Key[i]);
            if (order != 0) return order;
        }
        return a.Key.Count.CompareTo(b.Key.Count);
    });

    static int Compare(string a, string b)
    {
        if (a == b) return 0;
        if (a == "unknown") return 1;
        if (b == "unknown") return -1;
        if (int.TryParse(a.Split('-')[0], out var x) && int.TryParse(b.Split('-')[0], out var y) && x != y) return x.CompareTo(y);
        return string.CompareOrdinal(a, b);
    }
}

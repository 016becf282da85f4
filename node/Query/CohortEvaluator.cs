using System.Text;
using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// Evaluates a CohortQuery over the site database into a PatientSet. Each fact criterion is one
/// index range scan per term code on fact (fact_code, fact_quantity or fact_concept) whose pids
/// set bits; sex and age are scans of in-memory arrays; the boolean structure is bitmap algebra.
/// Calls are serialised: a SqliteConnection is not thread-safe.
/// </summary>
public sealed class CohortEvaluator(SqliteConnection connection)
{
    readonly Lock gate = new();
    SiteSnapshot? snapshot;

    /// <summary>Inclusion (AND of ORs) minus exclusion (OR of ANDs); no inclusion criteria = every
    /// patient. today (Days) is the reference date of age criteria.</summary>
    public PatientSet Evaluate(CohortQuery query, int today)
    {
        lock (gate)
        {
            var site = Current();
            CheckAttributes(query, site);
            var result = site.All.Clone();
            foreach (var group in query.Inclusion)
            {
                var any = new PatientSet(site.MaxPid);
                foreach (var criterion in group) Match(criterion, site, today, any);
                result.IntersectWith(any);
            }
            foreach (var group in query.Exclusion)
            {
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
                    if (!Build(command, criterion, code, sid, concept, site, withDate: false)) continue;
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
        var key = SiteSnapshot.Key(connection);
        if (snapshot is null || snapshot.Version != key.Version || snapshot.MaxPid != key.MaxPid)
            snapshot = SiteSnapshot.Load(connection, key);
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
            {
                var wanted = new bool[PatientCodes.Genders.Length];
                foreach (var concept in ((ConceptFilter)criterion.Value!).Concepts)
                {
                    var index = Array.IndexOf(PatientCodes.Genders, concept.Code);
                    if (index >= 0) wanted[index] = true;
                }
                var sex = site.Sex;
                for (long pid = 0; pid < sex.Length; pid++)
                    if (sex[pid] != SiteSnapshot.NoPatient && wanted[sex[pid]]) into.Add(pid);
                break;
            }
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
        foreach (var code in criterion.TermCodes)
        {
            if (!site.Sids.TryGetValue(code.System, out var sid)) continue; // a system the site never saw: no match
            IEnumerable<(long Sid, string Code)?> concepts = criterion.Value is ConceptFilter conceptFilter
                ? conceptFilter.Concepts.Where(c => site.Sids.ContainsKey(c.System)).Select(c => ((long, string)?)(site.Sids[c.System], c.Code))
                : [null];
            foreach (var concept in concepts)
            {
                using var command = connection.CreateCommand();
                if (!Build(command, criterion, code, sid, concept, site, withDate)) continue;
                using var reader = command.ExecuteReader();
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
    }

    /// <summary>The SQL of one scan; false when a part can match nothing (every concept of an
    /// attribute filter in a system the site never saw).</summary>
    static bool Build(SqliteCommand command, Criterion criterion, TermCode code, long sid, (long Sid, string Code)? concept, SiteSnapshot site, bool withDate)
    {
        var sql = new StringBuilder(withDate ? "SELECT f.pid, f.date FROM fact f WHERE f.sid = $sid" : "SELECT f.pid FROM fact f WHERE f.sid = $sid");
        command.Parameters.AddWithValue("$sid", sid);
        int next = 0;
        string Parameter(object value)
        {
            var name = $"$p{next++}";
            command.Parameters.AddWithValue(name, value);
            return name;
        }

        if (CodeSystems.IsHierarchical(code.System) && Successor(code.Code) is { } upper)
            sql.Append($" AND f.code >= {Parameter(code.Code)} AND f.code < {Parameter(upper)}");
        else if (CodeSystems.IsHierarchical(code.System))
            sql.Append($" AND f.code >= {Parameter(code.Code)}");
        else
            sql.Append($" AND f.code = {Parameter(code.Code)}");

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

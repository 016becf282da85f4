using System.Text;
using Microsoft.Data.Sqlite;
using Midia.Care.Codes;
using Midia.Node.Consent;
using Midia.Node.Store;

namespace Midia.Node.Query;

/// <summary>
/// Evaluates a CohortQuery over the site database into a PatientSet. Groups are taken smallest
/// first (by the cached row count of each criterion's index ranges). The first is scanned: one index
/// range scan per code span (CodeHierarchy) on fact (fact_code, fact_quantity or fact_concept) setting
/// bits. Each later group is either scanned and intersected, or — when few candidates are left —
/// checked per candidate with an index seek on (sid, code, pid), whichever the cost estimate says is
/// cheaper. Sex and age come from in-memory arrays, consent from the site's ConsentLedger. CCDL v3
/// groups with relative time restrictions read their facts with dates and keep those inside each
/// patient's window. Calls are serialised: a SqliteConnection is not thread-safe.
/// </summary>
public sealed class CohortEvaluator(SqliteConnection connection, ConsentLedger? consent = null)
{
    readonly Lock gate = new();
    readonly Dictionary<string, SqliteCommand> prepared = new(StringComparer.Ordinal);
    readonly ConsentLedger consentLedger = consent ?? new ConsentLedger(connection);
    SiteSnapshot? snapshot;

    // Cost model in microseconds, measured on the benchmark machine: reading one row of a range
    // scan into C#, one seek statement per candidate, statement overhead.
    const double RowCost = 0.2, SeekCost = 3.0, StatementCost = 20;

    /// <summary>How groups after the first are evaluated; tests force Scan or Probe to cover both paths.</summary>
    internal enum Strategy { Auto, Scan, Probe }

    internal Strategy Mode { get; set; } = Strategy.Auto;

    /// <summary>Inclusion (AND of ORs) minus exclusion (OR of ANDs); no inclusion criteria = every
    /// patient. today (Days) is the reference date of age and consent criteria and of CCDL's `now`.</summary>
    public PatientSet Evaluate(CohortQuery query, int today)
    {
        lock (gate)
        {
            var site = Current();
            CheckAttributes(query, site);
            var probes = new Probes(this, site, today);
            if (query.IsGrouped) return new GroupEvaluation(this, site, probes, today, query).Cohort();
            var result = Including(query.Inclusion, site, probes, today) ?? site.All.Clone();
            foreach (var group in query.Exclusion) result.ExceptWith(AllOf(group, result, site, probes, today));
            return result;
        }
    }

    /// <summary>The patients meeting every OR-group (null when there is none: nobody is excluded yet).</summary>
    PatientSet? Including(IReadOnlyList<IReadOnlyList<Criterion>> groups, SiteSnapshot site, Probes probes, int today)
    {
        PatientSet? result = null;
        var ordered = groups.Select(g => (Group: g, Size: g.Sum(c => EstimatedSize(c, site)))).OrderBy(g => g.Size).ToList();
        foreach (var (group, _) in ordered)
        {
            if (result is not null && Probing(group, result, site))
                result = Filter(result, pid => group.Any(c => probes.Matches(c, pid)));
            else
            {
                var any = new PatientSet(site.MaxPid);
                foreach (var criterion in group) Match(criterion, site, today, any);
                any.IntersectWith(result ?? site.All); // facts of pids without a patient row never count
                result = any;
            }
        }
        return result;
    }

    /// <summary>The patients among the candidates meeting every criterion of an AND-group.</summary>
    PatientSet AllOf(IReadOnlyList<Criterion> group, PatientSet candidates, SiteSnapshot site, Probes probes, int today)
    {
        if (Probing(group, candidates, site)) return Filter(candidates, pid => group.All(c => probes.Matches(c, pid)));
        PatientSet? every = null;
        foreach (var criterion in group)
        {
            var matched = new PatientSet(site.MaxPid);
            Match(criterion, site, today, matched);
            if (every is null) every = matched;
            else every.IntersectWith(matched);
        }
        every!.IntersectWith(site.All);
        return every;
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
                case CriterionKind.Consent: scan += site.MaxPid / 64.0 * 0.01 + 1000; seek += 0.01; break;
                default: scan += RowCount(criterion, site) * RowCost + statements * StatementCost; seek += statements * SeekCost; break;
            }
        }
        return candidates.Count() * seek < scan;
    }

    /// <summary>Rough number of patients a criterion selects, for ordering groups: the rows of its
    /// scans for facts (an upper bound), the gender counts for sex, half the site for age and consent.</summary>
    double EstimatedSize(Criterion criterion, SiteSnapshot site)
    {
        double size = criterion.Kind switch
        {
            CriterionKind.Sex => ((ConceptFilter)criterion.Value!).Concepts
                .Select(c => Array.IndexOf(PatientCodes.Genders, c.Code)).Where(i => i >= 0).Distinct().Sum(i => (double)site.BySex[i].Count()),
            CriterionKind.Age or CriterionKind.Consent => site.MaxPid / 2.0,
            _ => RowCount(criterion, site),
        };
        return criterion.Negated ? Math.Max(0, site.MaxPid - size) : size;
    }

    long RowCount(Criterion criterion, SiteSnapshot site)
    {
        var key = CanonicalForm.WriteCriterion(criterion);
        if (site.RowCounts.TryGetValue(key, out var rows)) return rows;
        rows = 0;
        foreach (var target in Targets(criterion, site))
        {
            var spec = new SqliteCommand();
            if (!Build(spec, criterion, target, site, Shape.Count)) continue;
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
            ?? throw new CcdlException($"by[{byIndex}]", query.IsGrouped
                ? "year stratifies by the first match of the first inclusion group, and the first group of this query has no plain criteria (it is windowed or now); put a group without relativeTimeRestrictions first"
                : "year stratifies by the first match of the first inclusion group, and the query has none; add an inclusion criterion");
        foreach (var criterion in anchor)
            if (criterion.Kind != CriterionKind.Facts || criterion.Negated)
                throw new CcdlException(criterion.Path, "year stratification needs dated facts in the first inclusion group, and sex, age, consent or a negated criterion has no date; move this criterion to another group");
        var first = new int[site.MaxPid + 1];
        Array.Fill(first, int.MaxValue);
        foreach (var criterion in anchor)
            Scan(criterion, site, withDate: true, (pid, date, _) => { if (date < first[pid]) first[pid] = date; });
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
            foreach (var criterion in query.Criteria.Where(c => c.Kind == CriterionKind.Facts))
                foreach (var target in Targets(criterion, site))
                {
                    using var command = connection.CreateCommand();
                    if (!Build(command, criterion, target, site, Shape.Pids)) continue;
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

    /// <summary>An attribute or reference the site's data does not carry at all would make the count silently 0: refused instead.</summary>
    static void CheckAttributes(CohortQuery query, SiteSnapshot site)
    {
        void Check(Criterion criterion)
        {
            foreach (var attribute in criterion.Attributes)
                if (!site.AttributeNames.Contains(attribute.Name))
                    throw new CcdlException(attribute.Path,
                        $"this site's data carries no attribute '{attribute.Name}', so the filter cannot be evaluated; remove it");
            foreach (var reference in criterion.References)
            {
                if (!site.ReferenceNames.Contains(reference.Name))
                    throw new CcdlException(reference.Path,
                        $"this site's data carries no reference '{reference.Name}' between resources, so the filter cannot be evaluated; remove it" +
                        (site.ReferenceNames.Count > 0 ? $" (references here: {string.Join(", ", site.ReferenceNames.Order(StringComparer.Ordinal))})" : ""));
                foreach (var nested in reference.Criteria) Check(nested);
            }
        }
        foreach (var criterion in query.Criteria) Check(criterion);
    }

    void Match(Criterion criterion, SiteSnapshot site, int today, PatientSet into)
    {
        if (criterion.Negated)
        {
            var positive = new PatientSet(site.MaxPid);
            Match(criterion with { Negated = false }, site, today, positive);
            var negative = site.All.Clone();
            negative.ExceptWith(positive);
            into.UnionWith(negative);
            return;
        }
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
            case CriterionKind.Consent:
                into.UnionWith(Consented(criterion, today));
                break;
            default:
                Scan(criterion, site, withDate: false, (pid, _, _) => into.Add(pid));
                break;
        }
    }

    /// <summary>Patients for whom one of the criterion's alternatives holds: every policy of it permitted today (MII rule, network changes on top).</summary>
    PatientSet Consented(Criterion criterion, int today)
    {
        PatientSet? any = null;
        foreach (var alternative in criterion.Policies)
        {
            PatientSet? all = null;
            foreach (var policy in alternative)
            {
                var permitted = consentLedger.Permitted(policy, today);
                if (all is null) all = permitted;
                else all.IntersectWith(permitted);
            }
            if (all is null) continue;
            if (any is null) any = all;
            else any.UnionWith(all);
        }
        return any ?? new PatientSet(0);
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

    /// <summary>Runs the criterion's range scans: one statement per code span (and per selected
    /// concept span, so each is an equality or range seek on fact_concept). withDate also reads date and end.</summary>
    void Scan(Criterion criterion, SiteSnapshot site, bool withDate, Action<long, int, int?> row)
    {
        foreach (var target in Targets(criterion, site))
        {
            var spec = new SqliteCommand();
            if (!Build(spec, criterion, target, site, withDate ? Shape.PidsAndDates : Shape.Pids)) continue;
            using var reader = Bound(spec).ExecuteReader();
            while (reader.Read())
            {
                var pid = reader.GetInt64(0);
                if (pid < 0 || pid > site.MaxPid) continue;
                if (withDate)
                {
                    if (reader.IsDBNull(1)) continue;
                    row(pid, checked((int)reader.GetInt64(1)), reader.IsDBNull(2) ? null : checked((int)reader.GetInt64(2)));
                }
                else row(pid, 0, null);
            }
        }
    }

    /// <summary>One statement's worth of a criterion: a span of its term codes (in a system the site
    /// knows) and, for a concept filter, one span of one selected concept.</summary>
    readonly record struct Target(long Sid, CodeSpan Span, long? ValueSid, CodeSpan? ValueSpan);

    /// <summary>The statements of a criterion; a system the site never saw matches nothing.</summary>
    static IEnumerable<Target> Targets(Criterion criterion, SiteSnapshot site)
    {
        var targets = new HashSet<Target>();
        foreach (var code in criterion.TermCodes)
        {
            if (!site.Sids.TryGetValue(code.System, out var sid)) continue;
            foreach (var span in CodeHierarchy.Spans(code.System, code.Code))
            {
                if (criterion.Value is ConceptFilter concepts)
                {
                    foreach (var concept in concepts.Concepts)
                        if (site.Sids.TryGetValue(concept.System, out var valueSid))
                            foreach (var valueSpan in CodeHierarchy.Spans(concept.System, concept.Code))
                                targets.Add(new Target(sid, span, valueSid, valueSpan));
                }
                else targets.Add(new Target(sid, span, null, null));
            }
        }
        return targets;
    }

    enum Shape { Pids, PidsAndDates, Count, Probe }

    /// <summary>The SQL of one statement; false when it can match nothing (every concept of an
    /// attribute filter in an unknown system, no code under a span, a reference to nothing known).
    /// A probe tests one patient ($pid) by seeking (sid, code, pid) for each code — under a span,
    /// each distinct code there.</summary>
    static bool Build(SqliteCommand command, Criterion criterion, Target target, SiteSnapshot site, Shape shape, IReadOnlyList<string>? codesUnderSpan = null)
    {
        bool range = target.Span.Until is not null;
        var sql = new StringBuilder(shape switch
        {
            Shape.Pids => "SELECT f.pid FROM fact f",
            Shape.PidsAndDates => "SELECT f.pid, f.date, f.end_date FROM fact f",
            Shape.Count => "SELECT COUNT(*) FROM fact f",
            _ => range && codesUnderSpan is null ? "SELECT 1 FROM fact f INDEXED BY fact_patient" : "SELECT 1 FROM fact f INDEXED BY fact_code",
        });
        int next = 0;
        string Parameter(object value)
        {
            var name = $"$p{next++}";
            command.Parameters.AddWithValue(name, value);
            return name;
        }

        sql.Append(" WHERE ");
        if (shape == Shape.Probe && range && codesUnderSpan is not null)
        {
            if (codesUnderSpan.Count == 0) return false;
            sql.Append($"f.sid = {Parameter(target.Sid)} AND f.code IN (").AppendJoin(", ", codesUnderSpan.Select(c => Parameter(c))).Append(')');
            if (!Conditions(sql, "f", criterion, target, site, Parameter, includeCode: false)) return false;
        }
        else if (!Conditions(sql, "f", criterion, target, site, Parameter, includeCode: true)) return false;
        if (shape == Shape.Probe)
        {
            sql.Append(" AND f.pid = $pid");
            command.Parameters.AddWithValue("$pid", 0L);
            sql.Append(" LIMIT 1");
        }
        command.CommandText = sql.ToString();
        return true;
    }

    /// <summary>
    /// Appends what one fact row (alias) must satisfy for the criterion under one target: its code
    /// span, kind (when the context needs one), value, date and attributes, and the references it
    /// must have. False when the conditions can never hold on this site.
    /// </summary>
    static bool Conditions(StringBuilder sql, string alias, Criterion criterion, Target target, SiteSnapshot site, Func<object, string> parameter, bool includeCode)
    {
        if (includeCode)
        {
            sql.Append($"{alias}.sid = {parameter(target.Sid)}");
            sql.Append(' ').Append("AND ").Append(SpanCondition($"{alias}.code", target.Span, parameter));
        }
        if (criterion.Context is { Kinds.Count: > 0 } context && NeedsKindFilter(site, target.Sid, context.Kinds))
            sql.Append($" AND {alias}.kind IN (").AppendJoin(", ", context.Kinds.Select(k => parameter((long)k))).Append(')');

        switch (criterion.Value)
        {
            case ConceptFilter:
                sql.Append($" AND {alias}.value_sid = {parameter(target.ValueSid!.Value)} AND ").Append(SpanCondition($"{alias}.value_code", target.ValueSpan!.Value, parameter));
                break;
            case ComparatorFilter or RangeFilter:
                sql.Append(Quantity(alias, criterion.Value, parameter));
                break;
        }
        if (criterion.Time?.After is { } after) sql.Append($" AND {alias}.date >= {parameter(after)}");
        if (criterion.Time?.Before is { } before) sql.Append($" AND {alias}.date <= {parameter(before)}");

        var attributeAlias = alias + "a";
        foreach (var attribute in criterion.Attributes)
        {
            sql.Append($" AND EXISTS (SELECT 1 FROM attribute {attributeAlias} WHERE {attributeAlias}.resource_type = {alias}.resource_type AND {attributeAlias}.resource_id = {alias}.resource_id AND {attributeAlias}.name = {parameter(attribute.Name)}");
            if (attribute.Filter is ConceptFilter concepts)
            {
                var known = concepts.Concepts.Where(c => site.Sids.ContainsKey(c.System))
                    .SelectMany(c => CodeHierarchy.Spans(c.System, c.Code).Select(span => (Sid: site.Sids[c.System], Span: span))).Distinct().ToList();
                if (known.Count == 0) return false;
                sql.Append(" AND (").AppendJoin(" OR ", known.Select(c => $"({attributeAlias}.sid = {parameter(c.Sid)} AND {SpanCondition($"{attributeAlias}.code", c.Span, parameter)})")).Append(')');
            }
            else sql.Append(Quantity(attributeAlias, attribute.Filter, parameter));
            sql.Append(')');
        }

        // A reference filter: the resource links (by name) to a resource of the same patient with a fact
        // meeting any of the nested criteria. Nested criteria have no references of their own (CCDL).
        foreach (var reference in criterion.References)
        {
            var link = alias + "r";
            var linked = alias + "t";
            var alternatives = new List<string>();
            foreach (var nested in reference.Criteria)
                foreach (var nestedTarget in Targets(nested, site))
                {
                    var condition = new StringBuilder();
                    if (Conditions(condition, linked, nested, nestedTarget, site, parameter, includeCode: true)) alternatives.Add($"({condition})");
                }
            if (alternatives.Count == 0) return false;
            sql.Append($" AND EXISTS (SELECT 1 FROM reference_link {link} JOIN fact {linked} ON {linked}.resource_type = {link}.target_type AND {linked}.resource_id = {link}.target_id");
            sql.Append($" WHERE {link}.resource_type = {alias}.resource_type AND {link}.resource_id = {alias}.resource_id AND {link}.name = {parameter(reference.Name)} AND {linked}.pid = {alias}.pid");
            sql.Append(" AND (").AppendJoin(" OR ", alternatives).Append("))");
        }
        return true;
    }

    static string SpanCondition(string column, CodeSpan span, Func<object, string> parameter) =>
        span.Until is { } until ? $"{column} >= {parameter(span.From)} AND {column} < {parameter(until)}" : $"{column} = {parameter(span.From)}";

    /// <summary>A context's kind filter is needed unless every fact of the system is of a kind the context reads.</summary>
    static bool NeedsKindFilter(SiteSnapshot site, long sid, IReadOnlyList<FactKind> kinds) =>
        !site.SystemKinds.TryGetValue(sid, out var present) || !present.All(kinds.Contains);

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

    /// <summary>Distinct codes stored in a span, found by skipping through fact_code (one seek
    /// each); null when there are too many to seek one by one.</summary>
    List<string>? CodesUnder(SiteSnapshot site, long sid, CodeSpan span)
    {
        var key = (sid, span.From, span.Until);
        if (site.CodesUnder.TryGetValue(key, out var cached)) return cached;
        var codes = new List<string>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT MIN(code) FROM fact WHERE sid = $sid AND code > $after AND code < $upper";
        command.Parameters.AddWithValue("$sid", sid);
        command.Parameters.AddWithValue("$upper", span.Until!);
        var after = command.Parameters.AddWithValue("$after", span.From);
        if (Exists(sid, span.From)) codes.Add(span.From);
        while (command.ExecuteScalar() is string code)
        {
            if (codes.Count == 64) return site.CodesUnder[key] = null;
            codes.Add(code);
            after.Value = code;
        }
        return site.CodesUnder[key] = codes;
    }

    bool Exists(long sid, string code)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM fact WHERE sid = $sid AND code = $code LIMIT 1";
        command.Parameters.AddWithValue("$sid", sid);
        command.Parameters.AddWithValue("$code", code);
        return command.ExecuteScalar() is not null;
    }

    /// <summary>Per-candidate checks for one evaluation: a seek statement per code span, bound
    /// again for every candidate; sex and age from the snapshot arrays, consent from its set.</summary>
    sealed class Probes(CohortEvaluator evaluator, SiteSnapshot site, int today)
    {
        readonly Dictionary<Criterion, List<SqliteCommand>> specs = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<Criterion, List<(long Low, long High)>> ages = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<Criterion, PatientSet> consents = new(ReferenceEqualityComparer.Instance);

        public bool Matches(Criterion criterion, long pid) => criterion.Negated ? !Positive(criterion, pid) : Positive(criterion, pid);

        bool Positive(Criterion criterion, long pid)
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
                case CriterionKind.Consent:
                    if (!consents.TryGetValue(criterion, out var consented)) consents[criterion] = consented = evaluator.Consented(criterion, today);
                    return consented.Contains(pid);
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
            foreach (var target in Targets(criterion, site))
            {
                var codes = target.Span.Until is not null ? evaluator.CodesUnder(site, target.Sid, target.Span) : null;
                var spec = new SqliteCommand();
                if (Build(spec, criterion, target, site, Shape.Probe, codes)) list.Add(spec);
            }
            return specs[criterion] = list;
        }
    }

    /// <summary>
    /// A CCDL v3 document: group arrays (OR) of groups (AND). A group without relative time
    /// restrictions is evaluated like a flat query's groups; a windowed group reads its facts with
    /// dates and keeps, per patient, only those inside the window its anchors give (CCDL v3 draft:
    /// every entry's anchor must resolve; entries intersect). An anchor's date is its first or last
    /// qualifying fact per clause; over several AND-clauses the window runs from the latest of those
    /// plus minOffset to the earliest plus maxOffset.
    /// </summary>
    sealed class GroupEvaluation(CohortEvaluator evaluator, SiteSnapshot site, Probes probes, int today, CohortQuery query)
    {
        readonly Dictionary<QueryGroup, PatientSet> matches = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<QueryGroup, Dictionary<long, (int Early, int Late)>> anchorDates = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<QueryGroup, Dictionary<long, (int Low, int High)>> windows = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<Criterion, Dictionary<long, List<(int Date, int? End)>>> dated = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<string, QueryGroup> byId = query.InclusionAlternatives!.Concat(query.ExclusionAlternatives!)
            .SelectMany(a => a).Where(g => g.Id is not null).ToDictionary(g => g.Id!, StringComparer.Ordinal);

        public PatientSet Cohort()
        {
            PatientSet included;
            if (query.InclusionAlternatives!.Count == 0) included = site.All.Clone();
            else
            {
                included = new PatientSet(site.MaxPid);
                foreach (var array in query.InclusionAlternatives) included.UnionWith(AllGroups(array));
            }
            foreach (var array in query.ExclusionAlternatives!) included.ExceptWith(AllGroups(array));
            return included;
        }

        PatientSet AllGroups(IReadOnlyList<QueryGroup> array)
        {
            var all = site.All.Clone();
            foreach (var group in array) all.IntersectWith(Matches(group));
            return all;
        }

        PatientSet Matches(QueryGroup group)
        {
            if (matches.TryGetValue(group, out var cached)) return cached;
            PatientSet result;
            if (group.Now) result = site.All.Clone();
            else if (group.Relative.Count == 0)
                result = group.Exclusion ? AnyClause(group.Criteria) : evaluator.Including(group.Criteria, site, probes, today) ?? site.All.Clone();
            else
            {
                var window = Window(group);
                result = new PatientSet(site.MaxPid);
                if (group.Exclusion)
                {
                    foreach (var clause in group.Criteria)
                    {
                        PatientSet? every = null;
                        foreach (var criterion in clause)
                        {
                            var inWindow = InWindow(criterion, window);
                            if (every is null) every = inWindow;
                            else every.IntersectWith(inWindow);
                        }
                        result.UnionWith(every!);
                    }
                }
                else
                {
                    PatientSet? every = null;
                    foreach (var clause in group.Criteria)
                    {
                        var any = new PatientSet(site.MaxPid);
                        foreach (var criterion in clause) any.UnionWith(InWindow(criterion, window));
                        if (every is null) every = any;
                        else every.IntersectWith(any);
                    }
                    result = every ?? result;
                }
                result.IntersectWith(site.All);
            }
            return matches[group] = result;
        }

        /// <summary>An exclusion group's criteria: an OR of AND-clauses.</summary>
        PatientSet AnyClause(IReadOnlyList<IReadOnlyList<Criterion>> clauses)
        {
            var any = new PatientSet(site.MaxPid);
            foreach (var clause in clauses) any.UnionWith(evaluator.AllOf(clause, site.All, site, probes, today));
            return any;
        }

        /// <summary>Patients with a fact of the criterion dated inside their window.</summary>
        PatientSet InWindow(Criterion criterion, Dictionary<long, (int Low, int High)> window)
        {
            var set = new PatientSet(site.MaxPid);
            foreach (var (pid, facts) in Dated(criterion))
                if (window.TryGetValue(pid, out var w) && facts.Any(f => f.Date >= w.Low && f.Date <= w.High)) set.Add(pid);
            return set;
        }

        Dictionary<long, List<(int Date, int? End)>> Dated(Criterion criterion)
        {
            if (dated.TryGetValue(criterion, out var facts)) return facts;
            facts = [];
            evaluator.Scan(criterion, site, withDate: true, (pid, date, end) =>
            {
                if (!facts.TryGetValue(pid, out var list)) facts[pid] = list = [];
                list.Add((date, end));
            });
            return dated[criterion] = facts;
        }

        /// <summary>Per patient, the window every relativeTimeRestrictions entry allows (inclusive days); a
        /// patient whose anchor does not resolve, or whose windows do not overlap, has none.</summary>
        Dictionary<long, (int Low, int High)> Window(QueryGroup group)
        {
            if (windows.TryGetValue(group, out var cached)) return cached;
            Dictionary<long, (int Low, int High)>? result = null;
            foreach (var entry in group.Relative)
            {
                var anchors = AnchorDates(byId[entry.AnchorRef]);
                var next = new Dictionary<long, (int Low, int High)>();
                foreach (var (pid, (early, late)) in anchors)
                {
                    if (result is not null && !result.ContainsKey(pid)) continue;
                    var low = entry.Min is { } min ? min.AddTo(late) : int.MinValue;
                    var high = entry.Max is { } max ? max.AddTo(early) : int.MaxValue;
                    if (result is not null)
                    {
                        var (l, h) = result[pid];
                        low = Math.Max(low, l);
                        high = Math.Min(high, h);
                    }
                    if (low <= high) next[pid] = (low, high);
                }
                result = next;
            }
            return windows[group] = result ?? [];
        }

        /// <summary>Per patient, the anchor's witness: one first (or last) qualifying date per AND-clause,
        /// reduced to the earliest and latest of them.</summary>
        Dictionary<long, (int Early, int Late)> AnchorDates(QueryGroup group)
        {
            if (anchorDates.TryGetValue(group, out var cached)) return cached;
            var result = new Dictionary<long, (int Early, int Late)>();
            if (group.Now)
            {
                foreach (var pid in site.All.Members()) result[pid] = (today, today);
                return anchorDates[group] = result;
            }
            // As AND-clauses of OR-ed criteria: an exclusion anchor is one AND-clause or single-criterion clauses (checked at parse).
            IReadOnlyList<IReadOnlyList<Criterion>> clauses = !group.Exclusion ? group.Criteria
                : group.Criteria.Count == 1 ? group.Criteria[0].Select(c => (IReadOnlyList<Criterion>)[c]).ToList()
                : [group.Criteria.Select(clause => clause[0]).ToList()];
            var window = group.Relative.Count > 0 ? Window(group) : null;
            Dictionary<long, (int Early, int Late)>? witness = null;
            foreach (var clause in clauses)
            {
                var picked = new Dictionary<long, int>();
                foreach (var criterion in clause)
                    foreach (var (pid, facts) in Dated(criterion))
                    {
                        (int Low, int High) w = (int.MinValue, int.MaxValue);
                        if (window is not null && !window.TryGetValue(pid, out w)) continue;
                        foreach (var (date, end) in facts)
                        {
                            if (date < w.Low || date > w.High) continue;
                            var point = group.Point == AnchorPoint.End ? end ?? date : date;
                            if (!picked.TryGetValue(pid, out var best) || (group.Occurrence == AnchorOccurrence.Last ? point > best : point < best))
                                picked[pid] = point;
                        }
                    }
                if (witness is null) witness = picked.ToDictionary(p => p.Key, p => (p.Value, p.Value));
                else
                {
                    var both = new Dictionary<long, (int Early, int Late)>();
                    foreach (var (pid, (early, late)) in witness)
                        if (picked.TryGetValue(pid, out var point)) both[pid] = (Math.Min(early, point), Math.Max(late, point));
                    witness = both;
                }
            }
            foreach (var (pid, dates) in witness ?? [])
                if (site.All.Contains(pid)) result[pid] = dates;
            return anchorDates[group] = result;
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

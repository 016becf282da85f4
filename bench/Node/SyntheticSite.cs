using Microsoft.Data.Sqlite;
using Midia.Node.Store;

namespace Midia.Bench.Node;

/// <summary>
/// A synthetic site for the query benchmark, written straight into the node schema (no FHIR):
/// a background population with common conditions and routine labs, breast cancer (C50/D05,
/// receptors, HER2, CA 15-3, endocrine and anti-HER2 drugs with the pre-2022 trastuzumab code,
/// surgery, radiotherapy), prostate cancer (C61, PSA series, ADT, prostatectomy, radiotherapy) and
/// MS (G35, DMTs under old and new ATC codes, EDSS). Seeded, so every run builds the same file.
/// </summary>
static class SyntheticSite
{
    const string Positive = "LA6576-8", Negative = "LA6577-6";
    static readonly int First = Days.From(new DateOnly(2010, 1, 1));
    static readonly int Last = Days.From(new DateOnly(2025, 6, 30));
    static readonly int Year2022 = Days.From(new DateOnly(2022, 1, 1));
    static readonly int Year2024 = Days.From(new DateOnly(2024, 1, 1));

    static readonly (string Code, double Prevalence, int MinAge)[] Background =
    [
        ("I10.90", 0.25, 30), ("E11.90", 0.09, 35), ("E78.0", 0.14, 30), ("J45.9", 0.07, 0), ("M54.5", 0.18, 18),
        ("K21.9", 0.10, 20), ("F32.9", 0.08, 15), ("N39.0", 0.05, 0), ("I25.9", 0.06, 45), ("E66.9", 0.12, 10),
    ];
    static readonly string[] BreastCodes = ["C50.1", "C50.2", "C50.3", "C50.4", "C50.5", "C50.8", "C50.9"];
    static readonly string[] Endocrine = ["L02BA01", "L02BG03", "L02BG04", "L02BG06"];
    static readonly string[] Adt = ["L02AE02", "L02AE03", "L02BB03", "L02BB04", "L02BX03", "L01CD02"];
    static readonly (string Old, string New)[] Dmts =
    [
        ("L04AA36", "L04AG08"), ("L04AA23", "L04AG03"), ("L04AA34", "L04AG06"), ("L04AA27", "L04AE01"),
        ("L04AA31", "L04AK02"), ("N07XX09", "L04AX07"), ("L03AX13", "L03AX13"), ("L03AB07", "L03AB07"),
    ];

    /// <summary>The version of this file's layout: a file of an older layout is rebuilt, not reused.</summary>
    public const string Schema = "2";

    public static long Build(string path, int patients, int seed = 42)
    {
        using (var connection = SiteDatabase.Open(path))
        {
            // Rows first, indexes after: one sort per index beats a b-tree update per row.
            SiteDatabase.Execute(connection, """
                PRAGMA synchronous=OFF; PRAGMA cache_size=-400000; PRAGMA temp_store=MEMORY;
                DROP INDEX fact_code; DROP INDEX fact_source; DROP INDEX fact_patient;
                DROP INDEX fact_quantity; DROP INDEX fact_concept; DROP INDEX attribute_source; DROP INDEX attribute_name;
                """);
            var writer = new Writer(connection);
            SiteDatabase.Execute(connection, "BEGIN");
            var random = new Random(seed);
            for (int pid = 1; pid <= patients; pid++) writer.AddPatient(pid, random);
            SiteDatabase.Execute(connection, $"INSERT INTO meta(key, value) VALUES ('bench_patients', '{patients}'), ('bench_schema', '{Schema}')");
            // What the importer keeps as it writes facts: the kinds each code system occurs in (contexts need no kind filter then).
            SiteDatabase.Execute(connection, "INSERT OR IGNORE INTO system_kind(sid, kind) SELECT DISTINCT sid, kind FROM fact");
            SiteDatabase.BumpDataVersion(connection);
            SiteDatabase.Execute(connection, "COMMIT");
            writer.Dispose();
            var facts = writer.Facts;
            connection.Close();
            using var indexed = SiteDatabase.Open(path); // recreates the dropped indexes
            SiteDatabase.Execute(indexed, "PRAGMA wal_checkpoint(TRUNCATE)");
            return facts;
        }
    }

    sealed class Writer : IDisposable
    {
        readonly SqliteCommand patient, fact, attribute;
        readonly long icd, ops, atc, loinc, snomed, ms;
        long resource;
        public long Facts { get; private set; }

        public Writer(SqliteConnection connection)
        {
            long Sid(string uri)
            {
                using var command = connection.CreateCommand();
                command.CommandText = "INSERT INTO code_system(uri) VALUES ($uri) RETURNING sid";
                command.Parameters.AddWithValue("$uri", uri);
                return (long)command.ExecuteScalar()!;
            }
            (icd, ops, atc, loinc, snomed, ms) = (Sid(CodeSystems.Icd10Gm), Sid(CodeSystems.Ops), Sid(CodeSystems.Atc), Sid(CodeSystems.Loinc), Sid(CodeSystems.Snomed), Sid(CodeSystems.MidiaMs));
            patient = Prepare(connection, "INSERT INTO patient(pid, resource_id, sex, birth_date) VALUES ($1, $2, $3, $4)", 4);
            fact = Prepare(connection, """
                INSERT INTO fact(pid, sid, code, kind, date, value_num, unit, value_sid, value_code, resource_type, resource_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """, 11);
            attribute = Prepare(connection, "INSERT INTO attribute(resource_type, resource_id, name, sid, code) VALUES ($1, $2, $3, $4, $5)", 5);
        }

        static SqliteCommand Prepare(SqliteConnection connection, string sql, int parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            for (int i = 1; i <= parameters; i++) command.Parameters.Add(new SqliteParameter($"${i}", null));
            command.Prepare();
            return command;
        }

        static void Set(SqliteCommand command, params object?[] values)
        {
            for (int i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
            command.ExecuteNonQuery();
        }

        public void AddPatient(int pid, Random random)
        {
            var sex = random.NextDouble() switch { < 0.495 => "female", < 0.99 => "male", < 0.995 => "other", _ => "unknown" };
            int? birth = random.Next(200) == 0 ? null : Days.From(new DateOnly(1930, 1, 1)) + random.Next(95 * 365);
            int age = birth is { } b ? (Days.From(new DateOnly(2025, 6, 30)) - b) / 365 : 50;
            Set(patient, pid, $"Patient/{pid}", sex, birth);
            int firstDay = Math.Max(First, (birth ?? First) + 1);

            foreach (var (code, prevalence, minAge) in Background)
                if (age >= minAge && random.NextDouble() < prevalence * Math.Min(2, 0.3 + age / 50.0))
                    Condition(pid, icd, code, Day(random, firstDay));

            // Routine labs: haemoglobin (some sites spell g/dl), creatinine.
            if (random.NextDouble() < 0.4)
                for (int i = random.Next(1, 4); i > 0; i--)
                    Observation(pid, loinc, "718-7", Day(random, firstDay), Math.Round(Normal(random, sex == "female" ? 13.2 : 14.8, 1.5), 1), random.Next(20) == 0 ? "g/dl" : "g/dL");
            if (random.NextDouble() < 0.3)
                Observation(pid, loinc, "2160-0", Day(random, firstDay), Math.Round(LogNormal(random, 0.9, 0.25), 2), "mg/dL");

            if (sex == "female" && age >= 25 && random.NextDouble() < (age >= 50 ? 0.035 : 0.012)) BreastCancer(pid, random, firstDay);
            else if (sex == "female" && age >= 30 && random.NextDouble() < 0.003) Condition(pid, icd, "D05.1", Day(random, firstDay));

            if (sex == "male" && age >= 45)
            {
                if (random.NextDouble() < 0.25) // PSA screening
                    for (int i = random.Next(1, 4); i > 0; i--)
                        Observation(pid, loinc, "2857-1", Day(random, firstDay), Math.Round(LogNormal(random, 1.3, 0.7), 2), random.Next(10) == 0 ? "ng/ml" : "ng/mL");
                if (random.NextDouble() < (age >= 60 ? 0.04 : 0.01)) ProstateCancer(pid, random, firstDay);
            }

            if (age >= 18 && random.NextDouble() < 0.003) MultipleSclerosis(pid, random, firstDay);
        }

        void BreastCancer(int pid, Random random, int firstDay)
        {
            var diagnosis = Day(random, firstDay);
            var condition = Condition(pid, icd, BreastCodes[random.Next(BreastCodes.Length)], diagnosis);
            Attribute("Condition", condition, "stage", snomed, $"T{random.Next(1, 5)}");
            bool er = random.NextDouble() < 0.75, her2 = random.NextDouble() < 0.18;
            Concept(pid, "16112-5", diagnosis, er ? Positive : Negative);
            Concept(pid, "16113-3", diagnosis, er && random.NextDouble() < 0.85 ? Positive : Negative);
            Concept(pid, "48676-1", diagnosis, her2 ? Positive : Negative);
            for (int i = random.Next(1, 5); i > 0; i--)
                Observation(pid, loinc, "6875-9", Later(random, diagnosis), Math.Round(LogNormal(random, 25, 0.6), 1), "U/mL");
            if (er) Medication(pid, Endocrine[random.Next(Endocrine.Length)], Later(random, diagnosis));
            if (her2)
            {
                var start = Later(random, diagnosis);
                Medication(pid, start < Year2022 ? "L01XC03" : "L01FD01", start);
            }
            Procedure(pid, random.NextDouble() < 0.6 ? "5-870.a1" : "5-872.0", Later(random, diagnosis));
            if (random.NextDouble() < 0.7) Procedure(pid, "8-522.91", Later(random, diagnosis));
        }

        void ProstateCancer(int pid, Random random, int firstDay)
        {
            var diagnosis = Day(random, firstDay);
            Condition(pid, icd, "C61", diagnosis);
            for (int i = random.Next(3, 7); i > 0; i--)
                Observation(pid, loinc, "2857-1", Later(random, diagnosis), Math.Round(LogNormal(random, 8, 0.9), 2), "ng/mL");
            if (random.NextDouble() < 0.6) Medication(pid, Adt[random.Next(Adt.Length)], Later(random, diagnosis));
            if (random.NextDouble() < 0.4) Procedure(pid, "5-604.02", Later(random, diagnosis));
            if (random.NextDouble() < 0.35) Procedure(pid, "8-522.91", Later(random, diagnosis));
        }

        void MultipleSclerosis(int pid, Random random, int firstDay)
        {
            var diagnosis = Day(random, firstDay);
            Condition(pid, icd, random.Next(3) == 0 ? "G35.1" : "G35.0", diagnosis);
            Condition(pid, snomed, "24700007", diagnosis);
            for (int i = random.Next(1, 4); i > 0; i--)
            {
                var (old, @new) = Dmts[random.Next(Dmts.Length)];
                var start = Later(random, diagnosis);
                Medication(pid, start < Year2024 ? old : @new, start);
            }
            for (int i = random.Next(1, 5); i > 0; i--)
                Observation(pid, ms, "edss", Later(random, diagnosis), random.Next(0, 21) / 2.0, null);
        }

        string Condition(int pid, long sid, string code, int date) => Fact(pid, sid, code, FactKind.Condition, date, null, null, null, "Condition");
        void Observation(int pid, long sid, string code, int date, double value, string? unit) => Fact(pid, sid, code, FactKind.Observation, date, value, unit, null, "Observation");
        void Concept(int pid, string code, int date, string answer) => Fact(pid, loinc, code, FactKind.Observation, date, null, null, answer, "Observation");
        void Medication(int pid, string code, int date) => Fact(pid, atc, code, FactKind.Medication, date, null, null, null, "MedicationStatement");
        void Procedure(int pid, string code, int date) => Fact(pid, ops, code, FactKind.Procedure, date, null, null, null, "Procedure");

        string Fact(int pid, long sid, string code, FactKind kind, int date, double? value, string? unit, string? answer, string resourceType)
        {
            var id = (++resource).ToString();
            Set(fact, pid, sid, code, (int)kind, date, value, unit, answer is null ? null : loinc, answer, resourceType, id);
            Facts++;
            return id;
        }

        void Attribute(string resourceType, string id, string name, long sid, string code) => Set(attribute, resourceType, id, name, sid, code);

        static int Day(Random random, int firstDay) => firstDay >= Last ? Last : random.Next(firstDay, Last + 1);
        static int Later(Random random, int date) => Math.Min(Last, date + random.Next(0, 730));
        static double Normal(Random random, double mean, double sd) =>
            mean + sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        static double LogNormal(Random random, double median, double sigma) => median * Math.Exp(Normal(random, 0, sigma));

        public void Dispose()
        {
            patient.Dispose();
            fact.Dispose();
            attribute.Dispose();
        }
    }
}

using System.CommandLine;
using Microsoft.Data.Sqlite;
using Midia.Hosting;

namespace Midia.Node.Store;

/// <summary>
/// The node's one SQLite file: facts for counting, consent, policy and audit. Opening it creates
/// or upgrades the schema. WAL lets the admin and consent verbs write while `serve` reads.
/// </summary>
public static class SiteDatabase
{
    // Dates are whole days since 1970-01-01 (see Days): small integers compare and index fast.
    const string Schema = """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

        -- pid is dense (1, 2, 3, ...) so patient sets are bitmaps indexed by it.
        CREATE TABLE IF NOT EXISTS patient (
          pid           INTEGER PRIMARY KEY,
          resource_id   TEXT NOT NULL UNIQUE,
          sex           TEXT NOT NULL DEFAULT 'unknown', -- FHIR administrative gender: male | female | other | unknown
          birth_date    INTEGER,                         -- Days
          deceased      INTEGER NOT NULL DEFAULT 0,
          deceased_date INTEGER,
          -- identifying data: used only for linkage and the site's own lookups; never leaves the node
          kvnr          TEXT,
          family        TEXT,
          given         TEXT,
          linkage       TEXT                             -- linkage pseudonym (keyed HMAC), set by serve
        );
        CREATE INDEX IF NOT EXISTS patient_kvnr ON patient(kvnr) WHERE kvnr IS NOT NULL;
        CREATE INDEX IF NOT EXISTS patient_linkage ON patient(linkage) WHERE linkage IS NOT NULL;

        -- Canonical code-system URIs (aliases such as dimdi -> bfarm are folded before insert).
        CREATE TABLE IF NOT EXISTS code_system (sid INTEGER PRIMARY KEY, uri TEXT NOT NULL UNIQUE);

        -- One row per coded item: a criterion becomes a range scan on fact_code.
        CREATE TABLE IF NOT EXISTS fact (
          fid           INTEGER PRIMARY KEY,
          pid           INTEGER NOT NULL,
          sid           INTEGER NOT NULL,
          code          TEXT NOT NULL,
          kind          INTEGER NOT NULL,  -- FactKind
          date          INTEGER,           -- Days: onset, effective, start, performed
          end_date      INTEGER,           -- Days: end of a period (medication, procedure)
          value_num     REAL,
          unit          TEXT,
          value_sid     INTEGER,           -- coded value (valueCodeableConcept)
          value_code    TEXT,
          display       TEXT,
          resource_type TEXT NOT NULL,
          resource_id   TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS fact_code ON fact(sid, code, pid, date, value_num);
        CREATE INDEX IF NOT EXISTS fact_source ON fact(resource_type, resource_id);
        CREATE INDEX IF NOT EXISTS fact_patient ON fact(pid);

        -- Attributes of the resource a fact came from (Condition stage, clinicalStatus, Observation method, ...).
        CREATE TABLE IF NOT EXISTS attribute (
          resource_type TEXT NOT NULL,
          resource_id   TEXT NOT NULL,
          name          TEXT NOT NULL,     -- lower-case attribute name as CCDL attributeCode.code uses it
          sid           INTEGER,
          code          TEXT,
          value_num     REAL,
          unit          TEXT
        );
        CREATE INDEX IF NOT EXISTS attribute_source ON attribute(resource_type, resource_id, name);

        -- Consent provisions: the site's own Consent documents (pid set, seq NULL) and network
        -- consent changes (linkage set, seq = the coordinator's global sequence number).
        CREATE TABLE IF NOT EXISTS consent_provision (
          id            INTEGER PRIMARY KEY,
          pid           INTEGER,
          linkage       TEXT,
          policy        TEXT NOT NULL,     -- full code, e.g. 2.16.840.1.113883.3.1937.777.24.5.3.8
          permit        INTEGER NOT NULL,  -- 1 permit, 0 deny
          start         INTEGER,           -- Days, inclusive; NULL = open
          end           INTEGER,           -- Days, inclusive; NULL = open
          source        TEXT NOT NULL,     -- 'Consent/<id>' or 'network:<seq>'
          seq           INTEGER
        );
        CREATE INDEX IF NOT EXISTS consent_pid ON consent_provision(pid) WHERE pid IS NOT NULL;
        CREATE INDEX IF NOT EXISTS consent_linkage ON consent_provision(linkage) WHERE linkage IS NOT NULL;
        CREATE INDEX IF NOT EXISTS consent_source ON consent_provision(source);
        -- Site-wide consent evaluation scans one policy's provisions in one index range.
        CREATE INDEX IF NOT EXISTS consent_policy ON consent_provision(policy, seq, pid, permit, start, end);

        -- Consent changes made here with `consent set`: the outbox the network submitter sends to
        -- the coordinator. Until the coordinator's sequence number comes back (seq), the ledger
        -- applies the change itself, after every network change it already holds.
        CREATE TABLE IF NOT EXISTS consent_change (
          id            INTEGER PRIMARY KEY,
          pid           INTEGER NOT NULL,
          linkage       TEXT,              -- the patient's linkage pseudonym when known
          policy        TEXT NOT NULL,
          permit        INTEGER NOT NULL,
          start         INTEGER,           -- Days, inclusive; NULL = open
          end           INTEGER,           -- Days, inclusive; NULL = open
          created       TEXT NOT NULL,     -- UTC, ISO 8601
          seq           INTEGER            -- the coordinator's sequence number, once logged there
        );
        CREATE INDEX IF NOT EXISTS consent_change_pending ON consent_change(policy, pid) WHERE seq IS NULL;

        -- Disclosure control per query type; NULL = the PRIVACY.md default.
        CREATE TABLE IF NOT EXISTS disclosure_setting (
          query_type    TEXT PRIMARY KEY,
          epsilon       TEXT,              -- decimal as typed, read as an exact rational
          round         INTEGER,
          threshold     INTEGER,
          exact         INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;

        -- Query-type approvals by the site admin; project '' = every project. Revoked rows stay as denials.
        CREATE TABLE IF NOT EXISTS query_approval (
          query_type    TEXT NOT NULL,
          project       TEXT NOT NULL,
          approved      INTEGER NOT NULL,  -- 1 approved, 0 revoked
          until         INTEGER,           -- Days, inclusive; NULL = no end
          changed       TEXT NOT NULL,     -- UTC, ISO 8601
          PRIMARY KEY (query_type, project)
        ) WITHOUT ROWID;

        -- What was asked for and refused, so the admin sees pending requests.
        CREATE TABLE IF NOT EXISTS query_request (
          query_type    TEXT NOT NULL,
          project       TEXT NOT NULL,
          first_seen    TEXT NOT NULL,
          last_seen     TEXT NOT NULL,
          count         INTEGER NOT NULL,
          PRIMARY KEY (query_type, project)
        ) WITHOUT ROWID;

        -- Every request, answered or refused. Append-only; never a patient identifier.
        CREATE TABLE IF NOT EXISTS audit (
          id            INTEGER PRIMARY KEY,
          time          TEXT NOT NULL,     -- UTC, ISO 8601
          user_name     TEXT,              -- end user as asserted by the coordinator
          user_role     TEXT,
          project       TEXT,
          query_type    TEXT NOT NULL,
          query_hash    TEXT,              -- canonical hash of the question
          outcome       TEXT NOT NULL,     -- answered | refused | error
          reason        TEXT,
          released      TEXT               -- e.g. '≈140 (noise, rounded to 10)', 'below threshold'
        );
        CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
        CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

        -- Query engine (node/Query): a quantity or coded-value filter is an index range scan too;
        -- partial, so facts without a value cost nothing. attribute_name lists the attributes the
        -- data carries (a filter on any other attribute is refused) by skipping, not scanning.
        CREATE INDEX IF NOT EXISTS fact_quantity ON fact(sid, code, unit, value_num, pid, date) WHERE value_num IS NOT NULL;
        CREATE INDEX IF NOT EXISTS fact_concept ON fact(sid, code, value_sid, value_code, pid, date) WHERE value_code IS NOT NULL;
        CREATE INDEX IF NOT EXISTS attribute_name ON attribute(name);

        -- Network consent (issue 5): each coordinator sequence number is stored once, however
        -- often it is pushed or pulled; the applied cursor lives in meta('consent_applied_seq').
        CREATE UNIQUE INDEX IF NOT EXISTS consent_network_seq ON consent_provision(seq) WHERE seq IS NOT NULL;
        -- Patients still without a linkage pseudonym, found without a scan after every data version.
        CREATE INDEX IF NOT EXISTS patient_unlinked ON patient(pid) WHERE linkage IS NULL;

        -- Patient summary and report (issues 6, 7): every time a patient's record was asked for,
        -- by whom and with what outcome — what the patient's transparency report lists. Internal
        -- pid only; append-only like the audit.
        CREATE TABLE IF NOT EXISTS record_access (
          id            INTEGER PRIMARY KEY,
          time          TEXT NOT NULL,     -- UTC, ISO 8601
          pid           INTEGER NOT NULL,
          user_name     TEXT,
          user_role     TEXT,
          user_site     TEXT,
          purpose       TEXT NOT NULL,     -- patient-summary | patient-report
          outcome       TEXT NOT NULL,     -- released | refused
          detail        TEXT               -- sections released ('problems 3, results 12') or why refused
        );
        CREATE INDEX IF NOT EXISTS record_access_pid ON record_access(pid, time);
        CREATE TRIGGER IF NOT EXISTS record_access_no_update BEFORE UPDATE ON record_access
          BEGIN SELECT RAISE(ABORT, 'the record access log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS record_access_no_delete BEFORE DELETE ON record_access
          BEGIN SELECT RAISE(ABORT, 'the record access log is append-only'); END;

        -- Usage ledger (issue 7): one row per answered research query with the set of patients it
        -- actually counted (consented and matching) as one compressed bitmap of pids, never a row
        -- per patient.
        CREATE TABLE IF NOT EXISTS research_use (
          id            INTEGER PRIMARY KEY,
          time          TEXT NOT NULL,     -- UTC, ISO 8601
          query_id      TEXT,              -- the coordinator's id
          project       TEXT,
          question      TEXT,              -- the CCDL display text
          query_type    TEXT NOT NULL,
          query_hash    TEXT,
          released      TEXT,              -- what the site released for the whole query
          patients      BLOB NOT NULL      -- compressed pid bitmap (node/Research/UsageLedger)
        );
        CREATE TRIGGER IF NOT EXISTS research_use_no_update BEFORE UPDATE ON research_use
          BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END;

        -- MII core data set (issue 15). Medication resources a statement, administration or request
        -- refers to (one row per coding of Medication.code and its ingredients), and which resource
        -- took its codes from which Medication, so a re-imported Medication rewrites their facts.
        CREATE TABLE IF NOT EXISTS medication (
          resource_id   TEXT NOT NULL,
          sid           INTEGER NOT NULL,
          code          TEXT NOT NULL,
          display       TEXT
        );
        CREATE INDEX IF NOT EXISTS medication_id ON medication(resource_id);
        CREATE TABLE IF NOT EXISTS medication_use (
          resource_type TEXT NOT NULL,
          resource_id   TEXT NOT NULL,
          medication_id TEXT NOT NULL,
          pid           INTEGER NOT NULL,
          kind          INTEGER NOT NULL,  -- FactKind of the drug's facts
          date          INTEGER,
          end_date      INTEGER,
          PRIMARY KEY (resource_type, resource_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS medication_use_medication ON medication_use(medication_id);

        -- References between a site's resources (a specimen's diagnosis, a diagnosis' encounter):
        -- what CCDL attribute filters of type reference follow. name is the lower-case attribute name.
        CREATE TABLE IF NOT EXISTS reference_link (
          resource_type TEXT NOT NULL,
          resource_id   TEXT NOT NULL,
          name          TEXT NOT NULL,
          target_type   TEXT NOT NULL,
          target_id     TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS reference_link_source ON reference_link(resource_type, resource_id, name);
        CREATE INDEX IF NOT EXISTS reference_link_name ON reference_link(name);

        -- Which kinds of facts each code system occurs in: a criterion's context (Diagnose, Laboruntersuchung)
        -- needs a kind filter only where a system spans several kinds (SNOMED: conditions and observations).
        CREATE TABLE IF NOT EXISTS system_kind (sid INTEGER NOT NULL, kind INTEGER NOT NULL, PRIMARY KEY (sid, kind)) WITHOUT ROWID;
        """;

    /// <summary>Opens (and, unless read-only, creates and migrates) a site database; a new file is owner-only (mode 600).</summary>
    public static SqliteConnection Open(string path, bool readOnly = false)
    {
        // Patient data: the file exists with mode 600 before SQLite writes to it (its WAL and
        // shared-memory files take the database file's mode).
        if (!readOnly) OwnerOnlyFile.CreateIfMissing(path);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=OFF;");
        if (!readOnly)
        {
            Execute(connection, Schema);
            Upgrade(connection);
        }
        return connection;
    }

    /// <summary>Columns added after a table first shipped: CREATE TABLE IF NOT EXISTS leaves an older file's table as it was.</summary>
    static void Upgrade(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('audit') WHERE name = 'request_id'";
        if ((long)command.ExecuteScalar()! == 0)
            // The coordinator's id of the request (query id, summary request id): one audit row per request it sent.
            Execute(connection, "ALTER TABLE audit ADD COLUMN request_id TEXT");
        Execute(connection, "CREATE INDEX IF NOT EXISTS audit_request ON audit(request_id) WHERE request_id IS NOT NULL");
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('fact') WHERE name = 'value_display'";
        if ((long)command.ExecuteScalar()! == 0)
            // The coded value's terminology text (valueCodeableConcept display or text) for the patient summary;
            // an older file's facts keep NULL until re-imported.
            Execute(connection, "ALTER TABLE fact ADD COLUMN value_display TEXT");
        // A file imported before system_kind existed: one scan fills it (the importer keeps it from then on).
        command.CommandText = "SELECT NOT EXISTS (SELECT 1 FROM meta WHERE key = 'system_kind_filled')";
        if ((long)command.ExecuteScalar()! == 1)
            Execute(connection, """
                INSERT OR IGNORE INTO system_kind(sid, kind) SELECT DISTINCT sid, kind FROM fact;
                INSERT OR IGNORE INTO meta(key, value) VALUES ('system_kind_filled', '1');
                """);
    }

    /// <summary>The --db option of every node verb; the value may also come from MIDIA_DB or appsettings.json (Setting).</summary>
    public static Option<string> DbOption(string description = "The site's database file (also MIDIA_DB)") =>
        new("--db") { HelpName = "FILE", Description = description };

    /// <summary>For the admin and consent verbs: a mistyped path must not quietly create an empty site.</summary>
    public static SqliteConnection OpenExisting(ParseResult parse, Option<string> db)
    {
        var path = Setting.Require(parse, db);
        return File.Exists(path) ? Open(path) : throw new CommandException($"database {path} does not exist");
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Bumped by every import and consent change; part of the seed of deterministic noise.</summary>
    public static long DataVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = 'data_version'";
        return command.ExecuteScalar() is string s ? long.Parse(s) : 0;
    }

    public static void BumpDataVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO meta(key, value) VALUES ('data_version', '1')
            ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
            """;
        command.ExecuteNonQuery();
    }
}

/// <summary>What kind of clinical item a fact is; also the summary's entry kinds.</summary>
public enum FactKind
{
    Condition = 1,
    Observation = 2,       // incl. one row per Observation.component
    Medication = 3,        // MedicationStatement and MedicationAdministration
    Procedure = 4,
    Imaging = 5,           // ImagingStudy: code = modality (DICOM), display = description
    CauseOfDeath = 6,      // Condition of the MII profile Todesursache (category 16100001 / 79378-6)
    Encounter = 7,         // code = Encounter.class (v3-ActCode: IMP, AMB, ...)
    Specimen = 8,          // code = Specimen.type
    DiagnosticReport = 9,  // code = DiagnosticReport.code
    Prescription = 10,     // MedicationRequest
}

/// <summary>Calendar dates as whole days since 1970-01-01, the unit of every date column.</summary>
public static class Days
{
    public static int From(DateOnly date) => date.DayNumber - Epoch;
    public static DateOnly ToDate(long days) => DateOnly.FromDayNumber((int)days + Epoch);
    public static int Today() => From(DateOnly.FromDateTime(DateTime.UtcNow));
    static readonly int Epoch = new DateOnly(1970, 1, 1).DayNumber;
}

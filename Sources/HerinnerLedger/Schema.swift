extension SQLiteLedger {

  /// The schema, one migration per version. Never edit a shipped migration: add one.
  static let migrations: [String] = [
    """
    CREATE TABLE deliveries (
      id INTEGER PRIMARY KEY,
      message_key TEXT NOT NULL,
      invoice TEXT NOT NULL,
      stage TEXT NOT NULL CHECK (stage IN ('first','second')),
      state TEXT NOT NULL CHECK (state IN ('sending','sent','deferred','rejected','unknown','not-sent')),
      resend INTEGER NOT NULL DEFAULT 0 CHECK (resend IN (0,1)),
      run_date TEXT NOT NULL,
      deadline TEXT,
      costs_cents INTEGER,
      recipients TEXT NOT NULL,
      message_id TEXT NOT NULL,
      in_reply_to TEXT,
      reply_code INTEGER,
      reply TEXT,
      archive_path TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX deliveries_one_live_step ON deliveries(invoice, stage)
      WHERE resend = 0 AND state IN ('sending','sent','unknown');
    CREATE INDEX deliveries_invoice ON deliveries(invoice);
    CREATE INDEX deliveries_message ON deliveries(message_key);
    CREATE INDEX deliveries_state ON deliveries(state);
    CREATE TABLE calls (
      id INTEGER PRIMARY KEY,
      invoice TEXT NOT NULL,
      date TEXT NOT NULL,
      note TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX calls_invoice ON calls(invoice);
    """,
    """
    CREATE TABLE statements (
      id INTEGER PRIMARY KEY,
      file_hash TEXT NOT NULL UNIQUE,
      file TEXT NOT NULL,
      format TEXT NOT NULL,
      latest_booking TEXT,
      transactions INTEGER NOT NULL,
      imported_at TEXT NOT NULL
    );
    CREATE TABLE payments (
      id INTEGER PRIMARY KEY,
      entry_key TEXT NOT NULL UNIQUE,
      statement_id INTEGER NOT NULL REFERENCES statements(id),
      account TEXT NOT NULL,
      booking_date TEXT NOT NULL,
      amount_cents INTEGER NOT NULL,
      currency TEXT NOT NULL,
      debtor_name TEXT,
      debtor_iban TEXT,
      remittance TEXT,
      structured_ref TEXT,
      status TEXT NOT NULL CHECK (status IN ('matched','unmatched','resolved')),
      rule TEXT,
      reason TEXT,
      suspects TEXT,
      overpaid_cents INTEGER NOT NULL DEFAULT 0,
      imported_at TEXT NOT NULL
    );
    CREATE TABLE allocations (
      id INTEGER PRIMARY KEY,
      payment_id INTEGER NOT NULL REFERENCES payments(id),
      invoice TEXT NOT NULL,
      amount_cents INTEGER NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX allocations_invoice ON allocations(invoice);
    """,
    // Reversals (CAMT RvslInd, MT940 RC): the credit undone keeps its row and its
    // allocations, marked by the reversal's entry key (unique: one reversal undoes one credit).
    """
    ALTER TABLE payments ADD COLUMN end_to_end TEXT;
    ALTER TABLE payments ADD COLUMN reversed_by TEXT;
    ALTER TABLE payments ADD COLUMN reversed_on TEXT;
    CREATE UNIQUE INDEX payments_reversed_by ON payments(reversed_by) WHERE reversed_by IS NOT NULL;
    """,
    // Returned mail. SQLite cannot alter a CHECK constraint, so the deliveries table is rebuilt
    // to accept 'bounced' (https://sqlite.org/lang_altertable.html §7), every row and index
    // kept. A report is recorded once (its content hash); `message_key` names the delivery it
    // answers. `imap_cursors` holds where `bounces fetch` stopped in each mailbox.
    """
    CREATE TABLE deliveries_new (
      id INTEGER PRIMARY KEY,
      message_key TEXT NOT NULL,
      invoice TEXT NOT NULL,
      stage TEXT NOT NULL CHECK (stage IN ('first','second')),
      state TEXT NOT NULL CHECK (state IN ('sending','sent','deferred','rejected','unknown','not-sent','bounced')),
      resend INTEGER NOT NULL DEFAULT 0 CHECK (resend IN (0,1)),
      run_date TEXT NOT NULL,
      deadline TEXT,
      costs_cents INTEGER,
      recipients TEXT NOT NULL,
      message_id TEXT NOT NULL,
      in_reply_to TEXT,
      reply_code INTEGER,
      reply TEXT,
      archive_path TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    INSERT INTO deliveries_new (id, message_key, invoice, stage, state, resend, run_date, deadline,
      costs_cents, recipients, message_id, in_reply_to, reply_code, reply, archive_path,
      created_at, updated_at)
    SELECT id, message_key, invoice, stage, state, resend, run_date, deadline, costs_cents,
      recipients, message_id, in_reply_to, reply_code, reply, archive_path, created_at, updated_at
    FROM deliveries;
    DROP TABLE deliveries;
    ALTER TABLE deliveries_new RENAME TO deliveries;
    CREATE UNIQUE INDEX deliveries_one_live_step ON deliveries(invoice, stage)
      WHERE resend = 0 AND state IN ('sending','sent','unknown');
    CREATE INDEX deliveries_invoice ON deliveries(invoice);
    CREATE INDEX deliveries_message ON deliveries(message_key);
    CREATE INDEX deliveries_state ON deliveries(state);
    CREATE TABLE bounces (
      id INTEGER PRIMARY KEY,
      report_id TEXT NOT NULL UNIQUE,
      message_key TEXT,
      kind TEXT NOT NULL CHECK (kind IN ('hard','soft','auto-reply','not-a-bounce')),
      status TEXT,
      recipient TEXT,
      diagnostic TEXT,
      report_date TEXT,
      source TEXT NOT NULL,
      counted_as_hard INTEGER NOT NULL DEFAULT 0 CHECK (counted_as_hard IN (0,1)),
      created_at TEXT NOT NULL
    );
    CREATE INDEX bounces_message ON bounces(message_key);
    CREATE TABLE imap_cursors (
      mailbox TEXT PRIMARY KEY,
      uid_validity INTEGER NOT NULL,
      last_uid INTEGER NOT NULL,
      updated_at TEXT NOT NULL
    );
    """,
  ]

  public static var schemaVersion: Int { migrations.count }
}

"""The SQL statements of :mod:`mltui.core.registry`, one constant each.

They live at module level, outside any function, so mutmut (which mutates only the code inside
functions and methods) makes no letter-case mutants of them: SQL keywords and identifiers are
case-insensitive in SQLite, so ``"select id from models"`` runs the same query as
``"SELECT id FROM models"`` and no test could tell the two apart.  Every value that changes what
a statement does (a kind such as ``'version'``, a stage, an action) is a ``?`` parameter passed
from registry.py, where it is still mutated and pinned by tests; what is left here is keywords,
table and column names.  Each statement's result is pinned by tests/core/test_registry*.py.
"""

# -- models ---------------------------------------------------------------------------------
MODEL_ID_BY_NAME = "SELECT id FROM models WHERE name = ?"
INSERT_MODEL = ("INSERT INTO models (name, description, project, created_at, next_version) "
                "VALUES (?, ?, ?, ?, 1)")
MODEL_NAME = "SELECT name FROM models WHERE id = ?"
MODEL_PROJECT = "SELECT project FROM models WHERE id = ?"
MODEL_NEXT_VERSION = "SELECT next_version FROM models WHERE id = ?"
SET_NEXT_VERSION = "UPDATE models SET next_version = ? WHERE id = ?"
RUN_PROJECT = "SELECT project FROM runs WHERE id = ?"

# -- versions -------------------------------------------------------------------------------
RUN_ARTIFACTS = ("SELECT kind, path, path_raw, hash_algo, hash, size, base_model "
                 "FROM run_artifacts WHERE run_id = ? ORDER BY seq")
INSERT_VERSION = (
    "INSERT INTO model_versions (model_id, version, canonical_name, run_id, artifact_path,"
    " artifact_path_raw, artifact_hash_algo, artifact_hash, artifact_size, base_model, "
    "created_at, created_by, status, source_uid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
VERSION_NUMBER = "SELECT version FROM model_versions WHERE id = ?"
VERSION_MODEL = "SELECT model_id FROM model_versions WHERE id = ?"
VERSION_MODEL_STATUS = "SELECT model_id, status FROM model_versions WHERE id = ?"
VERSION_STATUS = "SELECT status FROM model_versions WHERE id = ?"
SET_VERSION_STATUS = "UPDATE model_versions SET status = ? WHERE id = ?"
VERSION_SEARCH_PARTS = (
    "SELECT v.canonical_name, mo.name, mo.description, r.name, r.project FROM model_versions v "
    "JOIN models mo ON mo.id = v.model_id LEFT JOIN runs r ON r.id = v.run_id WHERE v.id = ?")
LATEST_DOC = ("SELECT text FROM doc_revisions WHERE target_kind = ? AND target_id = ? "
              "ORDER BY rev DESC LIMIT 1")
SET_SEARCH_TEXT = "INSERT OR REPLACE INTO search_text (kind, ref_id, body) VALUES (?, ?, ?)"
INSERT_EDGE = ("INSERT OR IGNORE INTO lineage (src_kind, src_id, dst_kind, dst_id, role, "
               "created_at) VALUES (?,?,?,?,?,?)")

# -- tags -----------------------------------------------------------------------------------
VERSION_TAGS = "SELECT key, value FROM version_tags WHERE version_id = ?"
TAG_VALUE = "SELECT value FROM version_tags WHERE version_id = ? AND key = ?"
SET_TAG = "INSERT OR REPLACE INTO version_tags (version_id, key, value) VALUES (?,?,?)"
DELETE_TAG = "DELETE FROM version_tags WHERE version_id = ? AND key = ?"

# -- stages ---------------------------------------------------------------------------------
STAGE_HOLDER = "SELECT version_id FROM stages WHERE model_id = ? AND stage = ?"
STAGES_HELD = "SELECT stage FROM stages WHERE version_id = ? ORDER BY stage"
DELETE_STAGE = "DELETE FROM stages WHERE model_id = ? AND stage = ?"
SET_STAGE = ("INSERT INTO stages (model_id, stage, version_id, since) VALUES (?,?,?,?) "
             "ON CONFLICT(model_id, stage) DO UPDATE SET version_id = excluded.version_id,"
             " since = excluded.since")
STAGE_HISTORY = ("SELECT action, to_version_id FROM stage_history WHERE model_id = ? "
                 "AND stage = ? ORDER BY id")
STAGES_EVER = "SELECT DISTINCT stage FROM stage_history WHERE model_id = ? ORDER BY stage"

# -- metrics and gates ----------------------------------------------------------------------
# {column} is a summary column chosen by gates.parse_rule (last, min or max), never user text.
METRIC_VALUE = ("SELECT ms.{column} FROM model_versions v JOIN metric_summary ms "
                "ON ms.run_id = v.run_id AND ms.key = ? WHERE v.id = ?")
RUN_METRIC_VALUE = "SELECT {column} FROM metric_summary WHERE key = ? AND run_id = ?"
GATE_RULES = "SELECT rule FROM gates WHERE model_id = ? AND stage = ? ORDER BY id"
GATES_SELECT = "SELECT id, rule, stage AS guards, created_at, created_by FROM gates "
GATES_OF_MODEL = GATES_SELECT + "WHERE model_id = ? ORDER BY id"
GATES_OF_STAGE = GATES_SELECT + "WHERE model_id = ? AND stage = ? ORDER BY id"
GATE_EXISTS = "SELECT 1 FROM gates WHERE model_id = ? AND stage = ? AND rule = ?"
INSERT_GATE = "INSERT INTO gates (model_id, rule, stage, created_at, created_by) VALUES (?,?,?,?,?)"
GATE_BY_ID = "SELECT id, rule FROM gates WHERE model_id = ? AND id = ?"
GATE_BY_RULE = "SELECT id, rule FROM gates WHERE model_id = ? AND rule = ?"
DELETE_GATE = "DELETE FROM gates WHERE id = ?"

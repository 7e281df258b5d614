"""The ``airbyte`` config database: reachable, migrated, with its metadata table."""

from fixtures.catalog import check
from fixtures.expect import expect

DB_OR_ENGINE = ("airbyte_db|engine",)


@check("airbyte.db.reachable", severity="high", runbook="airbyte.md#config-database-reachable",
       needs=("airbyte_db",), category="upstream down")
def test_db_reachable(gate):
    verdict = gate("airbyte_db")
    expect("[CONNECTED]", verdict.ok, "==", True, note=verdict.reason)


@check("airbyte.db.relations", severity="critical", runbook="airbyte.md#config-database-schema",
       needs=DB_OR_ENGINE, category="missing data")
def test_relations_exist(airbyte_relations):
    expect(f"relations in database airbyte (via {airbyte_relations.via})",
           len(airbyte_relations.tables), ">", 0, note="Did not find any relations")


@check("airbyte.db.metadata", severity="critical", runbook="airbyte.md#metadata-table-missing",
       needs=DB_OR_ENGINE, category="missing data")
def test_metadata_table(airbyte_relations):
    expect(f"tables (via {airbyte_relations.via})", airbyte_relations.tables, "contains",
           "airbyte_metadata")

"""The ``airbyte`` config database: reachable, migrated, with its metadata table."""

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

DB_OR_ENGINE = ("airbyte_db|engine",)


test_db_reachable = upstream_check(
    "adinsights.airbyte.db.reachable", "airbyte_db", "[CONNECTED]", severity="high",
    runbook="airbyte.md#config-database-reachable")


@check("adinsights.airbyte.db.relations",
       severity="critical", runbook="airbyte.md#config-database-schema",
       needs=DB_OR_ENGINE, category="missing data")
def test_relations_exist(airbyte_relations):
    expect(f"relations in database airbyte (via {airbyte_relations.via})",
           len(airbyte_relations.tables), ">", 0, note="Did not find any relations")


@check("adinsights.airbyte.db.metadata",
       severity="critical", runbook="airbyte.md#metadata-table-missing",
       needs=DB_OR_ENGINE, category="missing data")
def test_metadata_table(airbyte_relations):
    expect(f"tables (via {airbyte_relations.via})", airbyte_relations.tables, "contains",
           "airbyte_metadata")

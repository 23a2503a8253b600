"""The floor between the front ends (CLI, app) and the floors below (importers, core).

A service composes the importers and the catalog into one user action: ``ingest`` finds logs,
reads them with the right importer and hands the records to the catalog to write in one
transaction.  Nothing below this package imports it (an import-linter contract checks it).
"""

"""Alembic environment: runs on the connection Sealtrail hands it.

Concurrent ``sealtrail migrate`` runs against one database queue on a
transaction-scoped advisory lock instead of racing each other's DDL.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('sealtrail.migrate'))")
    context.run_migrations()

-- Drop index "revision_resource_id_timestamp" from table: "revisions"
DROP INDEX "revision_resource_id_timestamp";
-- Create index "revision_resource_id_timestamp" to table: "revisions"
CREATE UNIQUE INDEX "revision_resource_id_timestamp" ON "revisions" ("resource_id", "timestamp") INCLUDE ("num");

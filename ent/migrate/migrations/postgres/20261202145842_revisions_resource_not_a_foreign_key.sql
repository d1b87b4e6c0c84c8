-- Modify "revisions" table
ALTER TABLE "revisions" DROP CONSTRAINT "revisions_resources_revisions";

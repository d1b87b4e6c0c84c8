-- Create "controller_status_watchers" table
CREATE TABLE "controller_status_watchers" ("controller_status_id" bigint NOT NULL, "user_id" bigint NOT NULL, PRIMARY KEY ("controller_status_id", "user_id"), CONSTRAINT "controller_status_watchers_controller_status_id" FOREIGN KEY ("controller_status_id") REFERENCES "controller_status" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "controller_status_watchers_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Keep the watchers recorded in the one-to-many column
INSERT INTO "controller_status_watchers" ("controller_status_id", "user_id") SELECT "controller_status_watchers", "id" FROM "users" WHERE "controller_status_watchers" IS NOT NULL;
-- Modify "users" table
ALTER TABLE "users" DROP COLUMN "controller_status_watchers";

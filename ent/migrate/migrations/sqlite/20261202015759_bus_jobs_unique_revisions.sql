-- Keep one revision per (resource, timestamp) before the index becomes unique: the newest
-- row wins, as a repeated write does from now on. Rollups of the affected sequences are
-- rebuilt from the values that remain.
CREATE TEMPORARY TABLE `rf_dedupe_resources` AS SELECT DISTINCT a.`resource_id` FROM `revisions` a JOIN `revisions` b ON a.`resource_id` = b.`resource_id` AND a.`timestamp` = b.`timestamp` AND a.`id` < b.`id`;
DELETE FROM `revisions` WHERE EXISTS (SELECT 1 FROM `revisions` b WHERE b.`resource_id` = `revisions`.`resource_id` AND b.`timestamp` = `revisions`.`timestamp` AND b.`id` > `revisions`.`id`);
DELETE FROM `rollups` WHERE `resource_id` IN (SELECT `resource_id` FROM `rf_dedupe_resources`);
INSERT INTO `rollups` (`resource_id`, `bucket_seconds`, `bucket_start`, `count`, `sum`, `min`, `max`) SELECT r.`resource_id`, w.`s`, r.`timestamp` - (((r.`timestamp` % (w.`s` * 1000000)) + w.`s` * 1000000) % (w.`s` * 1000000)) AS `b`, count(*), sum(r.`num`), min(r.`num`), max(r.`num`) FROM `revisions` r CROSS JOIN (SELECT 86400 AS `s` UNION ALL SELECT 3600 UNION ALL SELECT 60) AS w WHERE r.`num` IS NOT NULL AND r.`resource_id` IN (SELECT `resource_id` FROM `rf_dedupe_resources`) GROUP BY r.`resource_id`, w.`s`, `b`;
DROP TABLE `rf_dedupe_resources`;
-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_revisions" table
CREATE TABLE `new_revisions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `timestamp` integer NOT NULL, `num` real NULL, `text` text NULL, `data` blob NULL, `blob_key` text NULL, `size` integer NOT NULL DEFAULT (0), `sha256` text NULL, `content_type` text NULL, `resource_id` integer NOT NULL, `author_user_id` integer NULL, `author_controller_id` integer NULL, CONSTRAINT `revisions_resources_revisions` FOREIGN KEY (`resource_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE, CONSTRAINT `revisions_users_author_user` FOREIGN KEY (`author_user_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `revisions_resources_author_controller` FOREIGN KEY (`author_controller_id`) REFERENCES `resources` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "revisions" to new temporary table "new_revisions"
INSERT INTO `new_revisions` (`id`, `timestamp`, `num`, `text`, `data`, `blob_key`, `size`, `sha256`, `content_type`, `resource_id`, `author_user_id`, `author_controller_id`) SELECT `id`, `timestamp`, `num`, `text`, `data`, `blob_key`, `size`, `sha256`, `content_type`, `resource_id`, `author_user_id`, `author_controller_id` FROM `revisions`;
-- Drop "revisions" table after copying rows
DROP TABLE `revisions`;
-- Rename temporary table "new_revisions" to "revisions"
ALTER TABLE `new_revisions` RENAME TO `revisions`;
-- Create index "revision_resource_id_timestamp" to table: "revisions"
CREATE UNIQUE INDEX `revision_resource_id_timestamp` ON `revisions` (`resource_id`, `timestamp`);
-- Create "bus_payloads" table
CREATE TABLE `bus_payloads` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `payload` blob NOT NULL, `created_at` datetime NOT NULL);
-- Create index "buspayload_created_at" to table: "bus_payloads"
CREATE INDEX `buspayload_created_at` ON `bus_payloads` (`created_at`);
-- Create "job_leases" table
CREATE TABLE `job_leases` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `holder` text NOT NULL DEFAULT (''), `next_run_at` datetime NOT NULL, `last_run_at` datetime NULL);
-- Create index "job_leases_name_key" to table: "job_leases"
CREATE UNIQUE INDEX `job_leases_name_key` ON `job_leases` (`name`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

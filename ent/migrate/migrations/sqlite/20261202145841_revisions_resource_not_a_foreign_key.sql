-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_revisions" table
CREATE TABLE `new_revisions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `resource_id` integer NOT NULL, `timestamp` integer NOT NULL, `num` real NULL, `text` text NULL, `data` blob NULL, `blob_key` text NULL, `size` integer NOT NULL DEFAULT (0), `sha256` text NULL, `content_type` text NULL, `author_user_id` integer NULL, `author_controller_id` integer NULL, CONSTRAINT `revisions_users_author_user` FOREIGN KEY (`author_user_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `revisions_resources_author_controller` FOREIGN KEY (`author_controller_id`) REFERENCES `resources` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "revisions" to new temporary table "new_revisions"
INSERT INTO `new_revisions` (`id`, `resource_id`, `timestamp`, `num`, `text`, `data`, `blob_key`, `size`, `sha256`, `content_type`, `author_user_id`, `author_controller_id`) SELECT `id`, `resource_id`, `timestamp`, `num`, `text`, `data`, `blob_key`, `size`, `sha256`, `content_type`, `author_user_id`, `author_controller_id` FROM `revisions`;
-- Drop "revisions" table after copying rows
DROP TABLE `revisions`;
-- Rename temporary table "new_revisions" to "revisions"
ALTER TABLE `new_revisions` RENAME TO `revisions`;
-- Create index "revision_resource_id_timestamp" to table: "revisions"
CREATE UNIQUE INDEX `revision_resource_id_timestamp` ON `revisions` (`resource_id`, `timestamp`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "controller_status_watchers" table
CREATE TABLE `controller_status_watchers` (`controller_status_id` integer NOT NULL, `user_id` integer NOT NULL, PRIMARY KEY (`controller_status_id`, `user_id`), CONSTRAINT `controller_status_watchers_controller_status_id` FOREIGN KEY (`controller_status_id`) REFERENCES `controller_status` (`id`) ON DELETE CASCADE, CONSTRAINT `controller_status_watchers_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Keep the watchers recorded in the one-to-many column
INSERT INTO `controller_status_watchers` (`controller_status_id`, `user_id`) SELECT `controller_status_watchers`, `id` FROM `users` WHERE `controller_status_watchers` IS NOT NULL;
-- Create "new_users" table
CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `user_name` text NULL, `email` text NOT NULL, `full_name` text NOT NULL DEFAULT (''), `password_hash` text NOT NULL DEFAULT (''), `system_admin` bool NOT NULL DEFAULT (false), `last_login` datetime NULL, `deleted` bool NOT NULL DEFAULT (false), `session_epoch` integer NOT NULL DEFAULT (0));
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `created_at`, `updated_at`, `user_name`, `email`, `full_name`, `password_hash`, `system_admin`, `last_login`, `deleted`, `session_epoch`) SELECT `id`, `created_at`, `updated_at`, `user_name`, `email`, `full_name`, `password_hash`, `system_admin`, `last_login`, `deleted`, `session_epoch` FROM `users`;
-- Drop "users" table after copying rows
DROP TABLE `users`;
-- Rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
-- Create index "user_user_name" to table: "users"
CREATE UNIQUE INDEX `user_user_name` ON `users` (`user_name`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

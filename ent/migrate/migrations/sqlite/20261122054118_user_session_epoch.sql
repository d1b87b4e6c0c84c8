-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_users" table
CREATE TABLE `new_users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `user_name` text NULL, `email` text NOT NULL, `full_name` text NOT NULL DEFAULT (''), `password_hash` text NOT NULL DEFAULT (''), `system_admin` bool NOT NULL DEFAULT (false), `last_login` datetime NULL, `deleted` bool NOT NULL DEFAULT (false), `session_epoch` integer NOT NULL DEFAULT (0), `controller_status_watchers` integer NULL, CONSTRAINT `users_controller_status_watchers` FOREIGN KEY (`controller_status_watchers`) REFERENCES `controller_status` (`id`) ON DELETE SET NULL);
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `created_at`, `updated_at`, `user_name`, `email`, `full_name`, `password_hash`, `system_admin`, `last_login`, `deleted`, `controller_status_watchers`) SELECT `id`, `created_at`, `updated_at`, `user_name`, `email`, `full_name`, `password_hash`, `system_admin`, `last_login`, `deleted`, `controller_status_watchers` FROM `users`;
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

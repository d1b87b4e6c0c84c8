-- Create "password_resets" table
CREATE TABLE `password_resets` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `token_hash` text NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `user_id` integer NOT NULL, CONSTRAINT `password_resets_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "passwordreset_token_hash" to table: "password_resets"
CREATE UNIQUE INDEX `passwordreset_token_hash` ON `password_resets` (`token_hash`);
-- Create index "passwordreset_user_id" to table: "password_resets"
CREATE INDEX `passwordreset_user_id` ON `password_resets` (`user_id`);
-- Create "rollups" table
CREATE TABLE `rollups` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `bucket_seconds` integer NOT NULL, `bucket_start` integer NOT NULL, `count` integer NOT NULL, `sum` real NOT NULL, `min` real NOT NULL, `max` real NOT NULL, `resource_id` integer NOT NULL, CONSTRAINT `rollups_resources_resource` FOREIGN KEY (`resource_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE);
-- Create index "rollup_resource_id_bucket_seconds_bucket_start" to table: "rollups"
CREATE UNIQUE INDEX `rollup_resource_id_bucket_seconds_bucket_start` ON `rollups` (`resource_id`, `bucket_seconds`, `bucket_start`);

-- Create "controller_status" table
CREATE TABLE `controller_status` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `last_online_at` datetime NULL, `last_watchdog_notice_at` datetime NULL, `status` json NULL, `watchdog_minutes` integer NOT NULL DEFAULT (0), `controller_id` integer NOT NULL, CONSTRAINT `controller_status_resources_controller` FOREIGN KEY (`controller_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE);
-- Create index "controllerstatus_controller_id" to table: "controller_status"
CREATE UNIQUE INDEX `controllerstatus_controller_id` ON `controller_status` (`controller_id`);
-- Create "keys" table
CREATE TABLE `keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `prefix` text NOT NULL, `hash` text NOT NULL, `created_at` datetime NOT NULL, `revoked_at` datetime NULL, `last_used_at` datetime NULL, `access_as_controller_id` integer NULL, `created_by_id` integer NOT NULL, `revoked_by_id` integer NULL, `organization_id` integer NULL, `access_as_user_id` integer NULL, CONSTRAINT `keys_resources_access_as_controller` FOREIGN KEY (`access_as_controller_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE, CONSTRAINT `keys_users_created_by` FOREIGN KEY (`created_by_id`) REFERENCES `users` (`id`) ON DELETE RESTRICT, CONSTRAINT `keys_users_revoked_by` FOREIGN KEY (`revoked_by_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `keys_organizations_keys` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE CASCADE, CONSTRAINT `keys_users_keys` FOREIGN KEY (`access_as_user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "key_hash" to table: "keys"
CREATE UNIQUE INDEX `key_hash` ON `keys` (`hash`);
-- Create index "key_organization_id" to table: "keys"
CREATE INDEX `key_organization_id` ON `keys` (`organization_id`);
-- Create "memberships" table
CREATE TABLE `memberships` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `is_admin` bool NOT NULL DEFAULT (false), `organization_id` integer NOT NULL, `user_id` integer NOT NULL, CONSTRAINT `memberships_organizations_memberships` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE CASCADE, CONSTRAINT `memberships_users_memberships` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "membership_user_id_organization_id" to table: "memberships"
CREATE UNIQUE INDEX `membership_user_id_organization_id` ON `memberships` (`user_id`, `organization_id`);
-- Create index "membership_organization_id" to table: "memberships"
CREATE INDEX `membership_organization_id` ON `memberships` (`organization_id`);
-- Create "messages" table
CREATE TABLE `messages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `type` text NOT NULL, `parameters` json NULL, `timestamp` datetime NOT NULL, `sender_user_id` integer NULL, `sender_controller_id` integer NULL, `folder_id` integer NOT NULL, CONSTRAINT `messages_users_sender_user` FOREIGN KEY (`sender_user_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `messages_resources_sender_controller` FOREIGN KEY (`sender_controller_id`) REFERENCES `resources` (`id`) ON DELETE SET NULL, CONSTRAINT `messages_resources_messages` FOREIGN KEY (`folder_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE);
-- Create index "message_folder_id_timestamp" to table: "messages"
CREATE INDEX `message_folder_id_timestamp` ON `messages` (`folder_id`, `timestamp`);
-- Create "organizations" table
CREATE TABLE `organizations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `full_name` text NOT NULL DEFAULT (''), `settings` json NULL, `folder_id` integer NULL, CONSTRAINT `organizations_resources_folder` FOREIGN KEY (`folder_id`) REFERENCES `resources` (`id`) ON DELETE RESTRICT);
-- Create index "organization_name" to table: "organizations"
CREATE UNIQUE INDEX `organization_name` ON `organizations` (`name`);
-- Create "permissions" table
CREATE TABLE `permissions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `grantee_type` text NOT NULL, `level` text NOT NULL, `organization_id` integer NULL, `resource_id` integer NOT NULL, `user_id` integer NULL, CONSTRAINT `permissions_organizations_permissions` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE CASCADE, CONSTRAINT `permissions_resources_permissions` FOREIGN KEY (`resource_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE, CONSTRAINT `permissions_users_permissions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "permission_resource_id" to table: "permissions"
CREATE INDEX `permission_resource_id` ON `permissions` (`resource_id`);
-- Create index "permission_user_id" to table: "permissions"
CREATE INDEX `permission_user_id` ON `permissions` (`user_id`);
-- Create index "permission_organization_id" to table: "permissions"
CREATE INDEX `permission_organization_id` ON `permissions` (`organization_id`);
-- Create "resources" table
CREATE TABLE `resources` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `type` text NOT NULL, `path` text NOT NULL, `system_attributes` json NULL, `user_attributes` json NULL, `last_revision_at` datetime NULL, `deleted` bool NOT NULL DEFAULT (false), `deleted_at` datetime NULL, `organization_id` integer NULL, `parent_id` integer NULL, CONSTRAINT `resources_organizations_resources` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE RESTRICT, CONSTRAINT `resources_resources_children` FOREIGN KEY (`parent_id`) REFERENCES `resources` (`id`) ON DELETE RESTRICT);
-- Create index "resource_path" to table: "resources"
CREATE UNIQUE INDEX `resource_path` ON `resources` (`path`) WHERE deleted = false;
-- Create index "resource_parent_id_name" to table: "resources"
CREATE UNIQUE INDEX `resource_parent_id_name` ON `resources` (`parent_id`, `name`) WHERE deleted = false;
-- Create index "resource_organization_id" to table: "resources"
CREATE INDEX `resource_organization_id` ON `resources` (`organization_id`);
-- Create "revisions" table
CREATE TABLE `revisions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `timestamp` integer NOT NULL, `num` real NULL, `text` text NULL, `data` blob NULL, `blob_key` text NULL, `size` integer NOT NULL DEFAULT (0), `sha256` text NULL, `content_type` text NULL, `resource_id` integer NOT NULL, `author_user_id` integer NULL, `author_controller_id` integer NULL, CONSTRAINT `revisions_resources_revisions` FOREIGN KEY (`resource_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE, CONSTRAINT `revisions_users_author_user` FOREIGN KEY (`author_user_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `revisions_resources_author_controller` FOREIGN KEY (`author_controller_id`) REFERENCES `resources` (`id`) ON DELETE SET NULL);
-- Create index "revision_resource_id_timestamp" to table: "revisions"
CREATE INDEX `revision_resource_id_timestamp` ON `revisions` (`resource_id`, `timestamp`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `token` text NOT NULL, `data` blob NOT NULL, `expiry` datetime NOT NULL);
-- Create index "session_token" to table: "sessions"
CREATE UNIQUE INDEX `session_token` ON `sessions` (`token`);
-- Create index "session_expiry" to table: "sessions"
CREATE INDEX `session_expiry` ON `sessions` (`expiry`);
-- Create "users" table
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `user_name` text NULL, `email` text NOT NULL, `full_name` text NOT NULL DEFAULT (''), `password_hash` text NOT NULL DEFAULT (''), `system_admin` bool NOT NULL DEFAULT (false), `last_login` datetime NULL, `deleted` bool NOT NULL DEFAULT (false), `controller_status_watchers` integer NULL, CONSTRAINT `users_controller_status_watchers` FOREIGN KEY (`controller_status_watchers`) REFERENCES `controller_status` (`id`) ON DELETE SET NULL);
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
-- Create index "user_user_name" to table: "users"
CREATE UNIQUE INDEX `user_user_name` ON `users` (`user_name`);

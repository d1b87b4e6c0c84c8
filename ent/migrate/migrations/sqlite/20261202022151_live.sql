-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_controller_status" table
CREATE TABLE `new_controller_status` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `last_online_at` datetime NULL, `last_watchdog_notice_at` datetime NULL, `status` json NULL, `watchdog_minutes` integer NOT NULL DEFAULT (0), `heartbeat_at` datetime NULL, `last_connect_at` datetime NULL, `client_version` text NULL, `last_watchdog_at` datetime NULL, `watchdog_offline_notified` bool NOT NULL DEFAULT (false), `controller_id` integer NOT NULL, CONSTRAINT `controller_status_resources_controller` FOREIGN KEY (`controller_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE);
-- Copy rows from old table "controller_status" to new temporary table "new_controller_status"
INSERT INTO `new_controller_status` (`id`, `last_online_at`, `last_watchdog_notice_at`, `status`, `watchdog_minutes`, `controller_id`) SELECT `id`, `last_online_at`, `last_watchdog_notice_at`, `status`, `watchdog_minutes`, `controller_id` FROM `controller_status`;
-- Drop "controller_status" table after copying rows
DROP TABLE `controller_status`;
-- Rename temporary table "new_controller_status" to "controller_status"
ALTER TABLE `new_controller_status` RENAME TO `controller_status`;
-- Create index "controllerstatus_controller_id" to table: "controller_status"
CREATE UNIQUE INDEX `controllerstatus_controller_id` ON `controller_status` (`controller_id`);
-- Create index "message_timestamp" to table: "messages"
CREATE INDEX `message_timestamp` ON `messages` (`timestamp`);
-- Create "outgoing_messages" table
CREATE TABLE `outgoing_messages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `kind` text NOT NULL, `recipients` json NOT NULL, `subject` text NOT NULL DEFAULT (''), `body` text NOT NULL DEFAULT (''), `result` text NOT NULL, `error` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `organization_id` integer NULL, `controller_id` integer NULL, `user_id` integer NULL, CONSTRAINT `outgoing_messages_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE CASCADE, CONSTRAINT `outgoing_messages_resources_controller` FOREIGN KEY (`controller_id`) REFERENCES `resources` (`id`) ON DELETE SET NULL, CONSTRAINT `outgoing_messages_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "outgoingmessage_organization_id_created_at" to table: "outgoing_messages"
CREATE INDEX `outgoingmessage_organization_id_created_at` ON `outgoing_messages` (`organization_id`, `created_at`);
-- Create index "outgoingmessage_controller_id_created_at" to table: "outgoing_messages"
CREATE INDEX `outgoingmessage_controller_id_created_at` ON `outgoing_messages` (`controller_id`, `created_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- Create "pins" table
CREATE TABLE `pins` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `pin` integer NOT NULL, `code_hash` text NOT NULL, `created_at` datetime NOT NULL, `entered_at` datetime NULL, `key_created` bool NOT NULL DEFAULT (false), `user_id` integer NULL, `controller_id` integer NULL, CONSTRAINT `pins_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE, CONSTRAINT `pins_resources_controller` FOREIGN KEY (`controller_id`) REFERENCES `resources` (`id`) ON DELETE CASCADE);
-- Create index "pin_pin" to table: "pins"
CREATE INDEX `pin_pin` ON `pins` (`pin`);
-- Create index "pin_created_at" to table: "pins"
CREATE INDEX `pin_created_at` ON `pins` (`created_at`);

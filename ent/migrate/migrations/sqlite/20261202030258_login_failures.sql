-- Create "login_failures" table
CREATE TABLE `login_failures` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `at` datetime NOT NULL);
-- Create index "loginfailure_key_at" to table: "login_failures"
CREATE INDEX `loginfailure_key_at` ON `login_failures` (`key`, `at`);
-- Create index "loginfailure_at" to table: "login_failures"
CREATE INDEX `loginfailure_at` ON `login_failures` (`at`);

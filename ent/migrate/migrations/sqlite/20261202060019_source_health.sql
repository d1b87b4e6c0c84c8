-- Create "source_healths" table
CREATE TABLE `source_healths` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `source` text NOT NULL, `ok` bool NOT NULL, `checked_at` datetime NOT NULL, `latency_ms` integer NOT NULL, `error` text NOT NULL DEFAULT (''), `formats` json NOT NULL);
-- Create index "source_healths_source_key" to table: "source_healths"
CREATE UNIQUE INDEX `source_healths_source_key` ON `source_healths` (`source`);

-- Names sort with the ICU collation "und-x-icu" (see textOrder in
-- postgres/search.go), identically on every cluster. A server built
-- without ICU support lacks it; stop here with a clear message instead of
-- failing every sorted search later.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        RAISE EXCEPTION 'this PostgreSQL server has no ICU collation "und-x-icu"; takaro needs a server built with ICU support (the packages of Debian, Ubuntu, the PostgreSQL project and the official container images are)';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
SELECT 1;

-- takaro_pgp_sym_decrypts, for `takaro db verify-encryption`.

-- +goose Up
-- takaro_pgp_sym_decrypts tells whether data decrypts with psw: true, or
-- false where pgp_sym_decrypt raises an error (wrong key, corrupt or
-- tampered data, not text), so one statement can check many values and
-- report each failure instead of aborting at the first. It returns no
-- plaintext. Strict: a NULL key (not configured) gives NULL.
--
-- The EXCEPTION clause runs each call in a subtransaction. They write
-- nothing, so they take no transaction id (no subtransaction overflow),
-- but they cannot run in parallel workers: hence PARALLEL UNSAFE.
-- +goose StatementBegin
CREATE FUNCTION takaro_pgp_sym_decrypts(data bytea, psw text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL UNSAFE AS $$
BEGIN
    PERFORM pgp_sym_decrypt(data, psw);
    RETURN true;
EXCEPTION WHEN external_routine_invocation_exception OR data_exception THEN
    RETURN false;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION takaro_pgp_sym_decrypts(bytea, text);

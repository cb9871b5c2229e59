-- Server-registration tokens: a game server that connects on its own
-- presents its domain's token. The token is shown again to the domain's
-- game-server managers, so it is stored encrypted (like connection info,
-- pgcrypto OpenPGP ciphertext, under a key named by token_key_id, covered
-- by key rotation and verification), and found by the SHA-256 digest kept
-- on domains: a lookup by token spans all domains and must not decrypt.
-- Domains created before this migration have no token until one is
-- regenerated (encrypting needs the key, which migrations never see).

-- +goose Up
ALTER TABLE domains ADD COLUMN registration_token_digest bytea
    CONSTRAINT domains_registration_token_digest_key UNIQUE
    CHECK (octet_length(registration_token_digest) = 32);

CREATE TABLE registration_tokens (
    domain       text        NOT NULL,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    token        bytea       NOT NULL CONSTRAINT registration_tokens_token_encrypted CHECK (get_byte(token, 0) = 195),
    token_key_id text        NOT NULL CHECK (token_key_id ~ '^[0-9a-f]{16}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    CONSTRAINT registration_tokens_one_per_domain UNIQUE (domain)
);
CREATE INDEX registration_tokens_key_id_idx ON registration_tokens (domain, token_key_id);
CREATE TRIGGER registration_tokens_updated_at BEFORE UPDATE ON registration_tokens FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('registration_tokens');

ALTER TABLE registration_tokens ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;

-- +goose Down
DROP TABLE registration_tokens;
ALTER TABLE domains DROP COLUMN registration_token_digest;
